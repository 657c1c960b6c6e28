package io.wxmp.gpu;

/** Event-bus addresses of the ranking verticle and the failure codes it answers with. */
public final class RankingAddresses {
  private RankingAddresses() {}

  public static final String TOP_K = "wxmp.ranking.topk";
  public static final String UPSERT = "wxmp.ranking.upsert";
  public static final String REMOVE = "wxmp.ranking.remove";
  public static final String LOAD = "wxmp.ranking.load";
  public static final String PING = "wxmp.ranking.ping";

  /** Failure code when the queue is over its bound; the message starts with {@link #OVERLOADED}. */
  public static final int OVERLOADED_CODE = 503;
  public static final String OVERLOADED = "ranking_overloaded";
  /** Failure code when the backend failed this batch (for example a CUDA error). */
  public static final int BACKEND_ERROR_CODE = 500;
  public static final String BACKEND_ERROR = "ranking_backend_error";
  public static final int BAD_REQUEST_CODE = 400;
  public static final String BAD_REQUEST = "ranking_bad_request";
  public static final int UNKNOWN_COLLECTION_CODE = 404;
  public static final String UNKNOWN_COLLECTION = "ranking_unknown_collection";
  public static final int STOPPED_CODE = 503;
  public static final String STOPPED = "ranking_stopped";
}
