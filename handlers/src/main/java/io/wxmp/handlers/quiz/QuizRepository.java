package io.wxmp.handlers.quiz;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.Audit;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** SQL for quizzes, their versioned question sets, attempts, answers, points awards and interest events. */
public final class QuizRepository {
  private static final String QUIZ_COLUMNS = """
      id, merchant_id, title, time_limit_sec, max_attempts, points_per_correct, start_at, end_at, status, version,
      created_at, updated_at""";
  private static final String INSERT_QUIZ = """
      INSERT INTO quizzes (merchant_id, title, time_limit_sec, max_attempts, points_per_correct, start_at, end_at,
                           status)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      RETURNING\s""" + QUIZ_COLUMNS;
  /** Writes one whole question set (questions and their choices) from a JSON array in one statement. */
  private static final String INSERT_CONTENT = """
      WITH input AS (
        SELECT q, pos::int AS pos FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(q, pos)
      ), questions AS (
        INSERT INTO quiz_questions (quiz_id, version, position, text, tags)
        SELECT $1, $2, pos, q->>'text', ARRAY(SELECT jsonb_array_elements_text(q->'tags')) FROM input
        RETURNING id, position
      )
      INSERT INTO quiz_choices (question_id, position, text, is_correct)
      SELECT questions.id, c.pos::int, c.choice->>'text', (c.choice->>'correct')::boolean
      FROM questions JOIN input ON input.pos = questions.position
      CROSS JOIN LATERAL jsonb_array_elements(input.q->'choices') WITH ORDINALITY AS c(choice, pos)""";
  private static final String CONTENT = """
      SELECT q.id, q.text, q.tags, c.id AS choice_id, c.text AS choice_text, c.is_correct
      FROM quiz_questions q JOIN quiz_choices c ON c.question_id = q.id
      WHERE q.quiz_id = $1 AND q.version = $2
      ORDER BY q.position, c.position""";
  private static final String MERCHANT_QUIZ = "SELECT " + QUIZ_COLUMNS
      + " FROM quizzes WHERE id = $1 AND merchant_id = $2";
  private static final String LIST = "SELECT " + QUIZ_COLUMNS + """
      , (SELECT count(*) FROM quiz_questions qq WHERE qq.quiz_id = quizzes.id AND qq.version = quizzes.version)
        AS question_count
      FROM quizzes WHERE merchant_id = $1 AND ($2::bigint IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3""";
  private static final String UPDATE_QUIZ = """
      UPDATE quizzes SET title = $3, time_limit_sec = $4, max_attempts = $5, points_per_correct = $6,
        start_at = $7, end_at = $8, status = $9, version = $10, updated_at = now()
      WHERE id = $1 AND merchant_id = $2
      RETURNING\s""" + QUIZ_COLUMNS;
  /** What a user may see: published and inside its window (server time). */
  private static final String MERCHANT_ACTIVE =
      " AND EXISTS (SELECT 1 FROM merchants m WHERE m.id = quizzes.merchant_id AND m.status = 'active')";
  private static final String OPEN_QUIZ = "SELECT " + QUIZ_COLUMNS + " FROM quizzes " + """
       WHERE id = $1 AND status = 'published'
        AND (start_at IS NULL OR start_at <= now()) AND (end_at IS NULL OR now() < end_at)""" + MERCHANT_ACTIVE;
  private static final String PUBLISHED_QUIZ = "SELECT " + QUIZ_COLUMNS
      + " FROM quizzes WHERE id = $1 AND status = 'published'" + MERCHANT_ACTIVE;
  /** GET /quizzes: published, open now, of active merchants, newest first. */
  private static final String OPEN_LIST = "SELECT " + QUIZ_COLUMNS + """
      , (SELECT count(*) FROM quiz_questions qq WHERE qq.quiz_id = quizzes.id AND qq.version = quizzes.version)
        AS question_count
      FROM quizzes WHERE status = 'published'
        AND (start_at IS NULL OR start_at <= now()) AND (end_at IS NULL OR now() < end_at)
        AND ($1::bigint IS NULL OR id < $1)""" + MERCHANT_ACTIVE + " ORDER BY id DESC LIMIT $2";
  /**
   * Starts the next attempt in one statement: only for an open quiz, only while attempt_no stays within
   * max_attempts; the unique (quiz_id, user_id, attempt_no) key turns a concurrent start of the same number into
   * 23505. The server's clock fixes started_at and deadline; the question order is shuffled per attempt.
   */
  private static final String START_ATTEMPT = """
      WITH q AS (
        SELECT id, version, time_limit_sec, max_attempts FROM quizzes
        WHERE id = $1 AND status = 'published'
          AND (start_at IS NULL OR start_at <= now()) AND (end_at IS NULL OR now() < end_at)
          AND EXISTS (SELECT 1 FROM merchants m WHERE m.id = quizzes.merchant_id AND m.status = 'active')
      ), n AS (
        SELECT COALESCE(max(attempt_no), 0) + 1 AS next FROM quiz_attempts WHERE quiz_id = $1 AND user_id = $2
      )
      INSERT INTO quiz_attempts (quiz_id, user_id, attempt_no, quiz_version, question_order, started_at, deadline)
      SELECT q.id, $2, n.next, q.version,
             ARRAY(SELECT qq.id FROM quiz_questions qq WHERE qq.quiz_id = q.id AND qq.version = q.version
                   ORDER BY CASE WHEN $3 THEN random() ELSE qq.position END),
             now(), now() + make_interval(secs => q.time_limit_sec)
      FROM q, n WHERE n.next <= q.max_attempts
      RETURNING id, quiz_version, question_order, started_at, deadline""";
  /** The user's own attempt, with its stored result; not for a quiz of a suspended merchant. */
  private static final String ATTEMPT = """
      SELECT a.id, a.quiz_id, a.quiz_version, a.question_order, a.started_at, a.deadline, a.submitted_at,
             a.score, a.total, a.points_awarded, a.duration_ms, q.points_per_correct
      FROM quiz_attempts a JOIN quizzes q ON q.id = a.quiz_id
      JOIN merchants m ON m.id = q.merchant_id AND m.status = 'active'
      WHERE a.id = $1 AND a.quiz_id = $2 AND a.user_id = $3""";
  private static final String ATTEMPT_ANSWERS = """
      SELECT question_id, choice_id, correct FROM quiz_attempt_answers WHERE attempt_id = $1""";
  /**
   * The whole submit as one statement, so one transaction: the exactly-once gate (only an unsubmitted attempt
   * inside deadline + grace becomes submitted) and, only if it passed, the graded answers, the points award and the
   * interest events. A second or concurrent submit, or a late one, updates no row and so writes nothing. The
   * duration is server time, capped at the deadline (the grace forgives network delay; it adds no answering time).
   */
  private static final String SUBMIT = """
      WITH submitted AS (
        UPDATE quiz_attempts
        SET submitted_at = now(), score = $4, total = $5, points_awarded = $6,
            duration_ms = GREATEST(0, (extract(epoch FROM LEAST(now(), deadline) - started_at) * 1000)::bigint)
        WHERE id = $1 AND user_id = $2 AND submitted_at IS NULL
          AND now() <= deadline + make_interval(secs => $3::double precision / 1000)
        RETURNING id, user_id, duration_ms
      ), answers AS (
        INSERT INTO quiz_attempt_answers (attempt_id, question_id, choice_id, correct)
        SELECT s.id, a.question_id, a.choice_id, a.correct
        FROM submitted s, unnest($7::bigint[], $8::bigint[], $9::boolean[]) AS a(question_id, choice_id, correct)
      ), award AS (
        INSERT INTO points_ledger (user_id, source_key, delta, reason)
        SELECT s.user_id, 'quiz-attempt:' || s.id, $6, 'quiz' FROM submitted s WHERE $6 > 0
      ), interests AS (
        INSERT INTO user_interest_events (user_id, tag, source, weight)
        SELECT s.user_id, t.tag, 'quiz-attempt:' || s.id, t.weight
        FROM submitted s, unnest($10::text[], $11::real[]) AS t(tag, weight)
      )
      SELECT duration_ms FROM submitted""";
  /** Why a submit changed nothing; a separate statement, so it sees a submit that committed meanwhile. */
  private static final String SUBMITTED = "SELECT submitted_at IS NOT NULL FROM quiz_attempts WHERE id = $1";
  /** Each user's best finished attempt: higher score, then shorter duration, then the earlier one. */
  private static final String BEST_PER_USER = """
      SELECT DISTINCT ON (user_id) user_id, score, duration_ms FROM quiz_attempts
      WHERE quiz_id = $1 AND submitted_at IS NOT NULL
      ORDER BY user_id, score DESC, duration_ms ASC, id ASC""";
  private static final String NICKNAMES = "SELECT id, nickname FROM users WHERE id = ANY($1)";

  private final Pool pg;

  public QuizRepository(Pool pg) {
    this.pg = pg;
  }

  /** A quiz's settings (without its questions). */
  public record Quiz(long id, long merchantId, String title, int timeLimitSec, int maxAttempts, int pointsPerCorrect,
      OffsetDateTime startAt, OffsetDateTime endAt, String status, int version, OffsetDateTime createdAt,
      OffsetDateTime updatedAt, Integer questionCount) {}

  public record Choice(long id, String text, boolean correct) {}

  public record Question(long id, String text, List<String> tags, List<Choice> choices) {
    /** The correct choice's id (exactly one per question, enforced on write). */
    public long correctChoiceId() {
      return choices.stream().filter(Choice::correct).findFirst().orElseThrow().id();
    }
  }

  /** One immutable question set of a quiz; safe to cache by (quiz, version). */
  public record Content(long quizId, int version, List<Question> questions) {
    public Question question(long id) {
      return questions.stream().filter(q -> q.id() == id).findFirst().orElse(null);
    }
  }

  public record NewChoice(String text, boolean correct) {}

  public record NewQuestion(String text, List<String> tags, List<NewChoice> choices) {}

  /** The settings of a quiz as written by a merchant (create, or the merged result of a patch). */
  public record QuizFields(String title, int timeLimitSec, int maxAttempts, int pointsPerCorrect,
      OffsetDateTime startAt, OffsetDateTime endAt, String status) {}

  public record StartedAttempt(long id, int version, List<Long> questionOrder, OffsetDateTime startedAt,
      OffsetDateTime deadline) {}

  public record Attempt(long id, long quizId, int version, List<Long> questionOrder, OffsetDateTime deadline,
      OffsetDateTime submittedAt, int pointsPerCorrect, OffsetDateTime startedAt, Integer score, Integer total,
      Integer pointsAwarded, Long durationMs) {}

  /** One stored answer of a submitted attempt. */
  public record StoredAnswer(long questionId, long choiceId, boolean correct) {}

  /** What one submit writes: the graded answers, the award and the interest events. */
  public record Grading(int score, int total, int points, List<Long> questionIds, List<Long> choiceIds,
      List<Boolean> correct, List<String> tags, List<Float> weights) {}

  public record BoardRow(long userId, int score, long durationMs) {}

  // ---- admin ----

  public Future<Quiz> create(long merchantId, QuizFields f, List<NewQuestion> questions) {
    return create(merchantId, f, questions, null);
  }

  /** Creates the quiz and its first question set, with its audit entry when {@code who} is given. */
  public Future<Quiz> create(long merchantId, QuizFields f, List<NewQuestion> questions, Audit.Who who) {
    return pg.withTransaction(tx -> tx.preparedQuery(INSERT_QUIZ)
        .execute(Tuple.from(new Object[] {merchantId, f.title(), f.timeLimitSec(), f.maxAttempts(),
            f.pointsPerCorrect(), f.startAt(), f.endAt(), f.status()}))
        .map(rows -> quiz(rows.iterator().next()))
        .compose(quiz -> insertContent(tx, quiz.id(), quiz.version(), questions).map(quiz))
        .compose(quiz -> who == null ? Future.succeededFuture(quiz)
            : Audit.record(tx, who, "quiz.create", "quiz", quiz.id(),
                Audit.diff(null, auditJson(f).put("questions", questionsJson(questions)))).map(quiz)));
  }

  /** What the audit log compares of a quiz's settings. */
  static JsonObject auditJson(QuizFields f) {
    return new JsonObject().put("title", f.title()).put("timeLimitSec", f.timeLimitSec())
        .put("maxAttempts", f.maxAttempts()).put("pointsPerCorrect", f.pointsPerCorrect())
        .put("startAt", f.startAt() == null ? null : f.startAt().toString())
        .put("endAt", f.endAt() == null ? null : f.endAt().toString()).put("status", f.status());
  }

  static QuizFields fields(Quiz q) {
    return new QuizFields(q.title(), q.timeLimitSec(), q.maxAttempts(), q.pointsPerCorrect(), q.startAt(), q.endAt(),
        q.status());
  }

  public Future<Quiz> merchantQuiz(long id, long merchantId) {
    return pg.preparedQuery(MERCHANT_QUIZ).execute(Tuple.of(id, merchantId))
        .map(rows -> rows.size() == 0 ? null : quiz(rows.iterator().next()));
  }

  public Future<List<Quiz>> list(long merchantId, Long beforeId, int limit) {
    return pg.preparedQuery(LIST).execute(Tuple.of(merchantId, beforeId, limit)).map(rows -> {
      List<Quiz> out = new ArrayList<>();
      rows.forEach(r -> out.add(quiz(r)));
      return out;
    });
  }

  /**
   * Applies a patch under a row lock: {@code merge} turns the current settings into the new ones (and may fail
   * with a 400, which rolls back). New questions become version + 1; the old set stays for the attempts pinned to it.
   */
  public Future<Quiz> update(long id, long merchantId, java.util.function.Function<Quiz, Future<QuizFields>> merge,
      List<NewQuestion> questions, Audit.Who who) {
    return pg.withTransaction(tx -> tx.preparedQuery(MERCHANT_QUIZ + " FOR UPDATE").execute(Tuple.of(id, merchantId))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(null);
          }
          Quiz current = quiz(rows.iterator().next());
          return merge.apply(current).compose(f -> {
            int version = questions == null ? current.version() : current.version() + 1;
            Future<Void> content = questions == null ? Future.succeededFuture()
                : insertContent(tx, id, version, questions);
            JsonObject changes = Audit.diff(auditJson(fields(current)), auditJson(f));
            if (questions != null) {
              changes.put("questions", new JsonObject().put("version", new JsonObject()
                  .put("from", current.version()).put("to", version)).put("to", questionsJson(questions)));
            }
            return content.compose(v -> tx.preparedQuery(UPDATE_QUIZ).execute(Tuple.from(new Object[] {id,
                    merchantId, f.title(), f.timeLimitSec(), f.maxAttempts(), f.pointsPerCorrect(), f.startAt(),
                    f.endAt(), f.status(), version})))
                .map(updated -> quiz(updated.iterator().next()))
                .compose(updated -> Audit.record(tx, who, "quiz.update", "quiz", id, changes).map(updated));
          });
        }));
  }

  public Future<Content> content(long quizId, int version) {
    return pg.preparedQuery(CONTENT).execute(Tuple.of(quizId, version)).map(rows -> {
      List<Question> questions = new ArrayList<>();
      long currentId = -1;
      List<Choice> choices = null;
      for (Row r : rows) {
        long questionId = r.getLong("id");
        if (questionId != currentId) {
          currentId = questionId;
          choices = new ArrayList<>();
          questions.add(new Question(questionId, r.getString("text"), List.of(r.getArrayOfStrings("tags")),
              choices));
        }
        choices.add(new Choice(r.getLong("choice_id"), r.getString("choice_text"), r.getBoolean("is_correct")));
      }
      return new Content(quizId, version, List.copyOf(questions));
    });
  }

  // ---- users ----

  public Future<Quiz> openQuiz(long id) {
    return pg.preparedQuery(OPEN_QUIZ).execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? null : quiz(rows.iterator().next()));
  }

  public Future<Quiz> publishedQuiz(long id) {
    return pg.preparedQuery(PUBLISHED_QUIZ).execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? null : quiz(rows.iterator().next()));
  }

  /**
   * The next attempt, or null when the quiz is not open or the attempts are used up. A concurrent start that took
   * the same attempt number (23505) is retried, so it either gets the next number or finds the limit reached.
   */
  public Future<StartedAttempt> startAttempt(long quizId, long userId, boolean shuffle) {
    return startAttempt(quizId, userId, shuffle, 0);
  }

  private Future<StartedAttempt> startAttempt(long quizId, long userId, boolean shuffle, int retries) {
    return pg.preparedQuery(START_ATTEMPT).execute(Tuple.of(quizId, userId, shuffle))
        .map(rows -> {
          if (rows.size() == 0) {
            return (StartedAttempt) null;
          }
          Row r = rows.iterator().next();
          return new StartedAttempt(r.getLong("id"), r.getInteger("quiz_version"),
              Arrays.asList(r.getArrayOfLongs("question_order")), r.getOffsetDateTime("started_at"),
              r.getOffsetDateTime("deadline"));
        })
        .recover(failure -> isUniqueViolation(failure) && retries < 20
            ? startAttempt(quizId, userId, shuffle, retries + 1)
            : Future.failedFuture(failure));
  }

  public Future<Attempt> attempt(long attemptId, long quizId, long userId) {
    return pg.preparedQuery(ATTEMPT).execute(Tuple.of(attemptId, quizId, userId)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row r = rows.iterator().next();
      return new Attempt(r.getLong("id"), r.getLong("quiz_id"), r.getInteger("quiz_version"),
          Arrays.asList(r.getArrayOfLongs("question_order")), r.getOffsetDateTime("deadline"),
          r.getOffsetDateTime("submitted_at"), r.getInteger("points_per_correct"), r.getOffsetDateTime("started_at"),
          r.getInteger("score"), r.getInteger("total"), r.getInteger("points_awarded"), r.getLong("duration_ms"));
    });
  }

  public Future<List<StoredAnswer>> answers(long attemptId) {
    return pg.preparedQuery(ATTEMPT_ANSWERS).execute(Tuple.of(attemptId)).map(rows -> {
      List<StoredAnswer> out = new ArrayList<>();
      rows.forEach(r -> out.add(new StoredAnswer(r.getLong(0), r.getLong(1), r.getBoolean(2))));
      return out;
    });
  }

  /** Published quizzes open now, of active merchants, newest first. */
  public Future<List<Quiz>> openList(Long beforeId, int limit) {
    return pg.preparedQuery(OPEN_LIST).execute(Tuple.of(beforeId, limit)).map(rows -> {
      List<Quiz> out = new ArrayList<>();
      rows.forEach(r -> out.add(quiz(r)));
      return out;
    });
  }

  /** Outcome of a submit: the duration when this call submitted, or why it did not. */
  public record Submitted(Long durationMs, boolean alreadySubmitted) {}

  /**
   * Submits exactly once (see {@link #SUBMIT}): the score, answers, award and interest events commit together or
   * not at all.
   */
  public Future<Submitted> submit(long attemptId, long userId, long graceMs, Grading g) {
    Tuple args = Tuple.from(new Object[] {attemptId, userId, graceMs, g.score(), g.total(), g.points(),
        g.questionIds().toArray(new Long[0]), g.choiceIds().toArray(new Long[0]), g.correct().toArray(new Boolean[0]),
        g.tags().toArray(new String[0]), g.weights().toArray(new Float[0])});
    return pg.preparedQuery(SUBMIT).execute(args)
        .compose(rows -> rows.size() > 0
            ? Future.succeededFuture(new Submitted(rows.iterator().next().getLong(0), false))
            : pg.preparedQuery(SUBMITTED).execute(Tuple.of(attemptId))
                .map(r -> new Submitted(null, r.iterator().next().getBoolean(0))))
        // the ledger's unique source_key is the last line of defence: a duplicate award is an already-submit
        .recover(failure -> isUniqueViolation(failure)
            ? Future.succeededFuture(new Submitted(null, true)) : Future.failedFuture(failure));
  }

  public Future<List<BoardRow>> bestPerUser(long quizId) {
    return pg.preparedQuery(BEST_PER_USER).execute(Tuple.of(quizId)).map(rows -> {
      List<BoardRow> out = new ArrayList<>(rows.size());
      rows.forEach(r -> out.add(new BoardRow(r.getLong(0), r.getInteger(1), r.getLong(2))));
      return out;
    });
  }

  public Future<java.util.Map<Long, String>> nicknames(List<Long> userIds) {
    return pg.preparedQuery(NICKNAMES).execute(Tuple.of(userIds.toArray(new Long[0]))).map(rows -> {
      java.util.Map<Long, String> out = new java.util.HashMap<>();
      rows.forEach(r -> out.put(r.getLong(0), r.getString(1)));
      return out;
    });
  }

  // ---- helpers ----

  private static Future<Void> insertContent(SqlClient tx, long quizId, int version, List<NewQuestion> questions) {
    return tx.preparedQuery(INSERT_CONTENT).execute(Tuple.of(quizId, version, questionsJson(questions))).mapEmpty();
  }

  private static JsonArray questionsJson(List<NewQuestion> questions) {
    JsonArray json = new JsonArray();
    for (NewQuestion q : questions) {
      JsonArray choices = new JsonArray();
      q.choices().forEach(c -> choices.add(new JsonObject().put("text", c.text()).put("correct", c.correct())));
      json.add(new JsonObject().put("text", q.text()).put("tags", new JsonArray(q.tags())).put("choices", choices));
    }
    return json;
  }

  private static Quiz quiz(Row r) {
    Integer count = r.getColumnIndex("question_count") >= 0 ? r.getLong("question_count").intValue() : null;
    return new Quiz(r.getLong("id"), r.getLong("merchant_id"), r.getString("title"), r.getInteger("time_limit_sec"),
        r.getInteger("max_attempts"), r.getInteger("points_per_correct"), r.getOffsetDateTime("start_at"),
        r.getOffsetDateTime("end_at"), r.getString("status"), r.getInteger("version"),
        r.getOffsetDateTime("created_at"), r.getOffsetDateTime("updated_at"), count);
  }

  private static boolean isUniqueViolation(Throwable failure) {
    return failure instanceof PgException pg && "23505".equals(pg.getSqlState());
  }
}
