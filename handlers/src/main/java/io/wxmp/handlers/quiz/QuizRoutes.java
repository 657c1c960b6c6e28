package io.wxmp.handlers.quiz;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.ContentSecurity;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.common.Respond;
import io.wxmp.handlers.events.OnlineState;
import io.wxmp.handlers.quiz.QuizRepository.Choice;
import io.wxmp.handlers.quiz.QuizRepository.NewChoice;
import io.wxmp.handlers.quiz.QuizRepository.NewQuestion;
import io.wxmp.handlers.quiz.QuizRepository.Question;
import io.wxmp.handlers.quiz.QuizRepository.Quiz;
import io.wxmp.handlers.quiz.QuizRepository.QuizFields;
import io.wxmp.handlers.quiz.QuizService.QuizView;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code /quizzes/*} for users (read, start an attempt, submit, leaderboard) and {@code /admin/quizzes} for
 * merchants (create, list, read, edit). Parses and shapes JSON; the rules live in {@link QuizService}.
 */
public final class QuizRoutes {
  static final List<String> STATUSES = List.of("draft", "published", "archived");
  private final QuizService service;

  private QuizRoutes(QuizService service) {
    this.service = service;
  }

  /**
   * Quiz settings.
   *
   * @param submitGraceMs how long after an attempt's deadline a submit is still accepted (network delay)
   * @param shuffleQuestions whether each attempt gets its own question order
   */
  public record Config(long submitGraceMs, boolean shuffleQuestions) {
    public static final Config DEFAULTS = new Config(2_000, true);
  }

  /**
   * Routes relative to {@code /api/v1}; the server authenticates {@code /admin/*} in front. Answered questions'
   * tags go to {@code online} (the feed's interest tags).
   */
  public static Router create(Deps deps, Config config, OnlineState online) {
    QuizRepository repository = new QuizRepository(deps.pg());
    QuizService service = new QuizService(repository, new Leaderboard(deps.vertx(), deps.redis(), repository),
        config.submitGraceMs(), config.shuffleQuestions(), online,
        new ContentSecurity(deps.wechat(), deps.upstream()), deps.profiles());
    QuizRoutes routes = new QuizRoutes(service);
    Router router = Router.router(deps.vertx());
    router.route("/quizzes").handler(Authenticate.users(deps.sessions()));
    router.route("/quizzes/*").handler(Authenticate.users(deps.sessions()));
    router.get("/quizzes").handler(Respond.json(routes::openList));
    router.get("/quizzes/:id").handler(Respond.json(routes::quiz));
    router.get("/quizzes/:id/attempts/:attemptId").handler(Respond.json(routes::attempt));
    router.post("/quizzes/:id/attempts").handler(Respond.status(201, routes::start));
    router.post("/quizzes/:id/attempts/:attemptId/submit").handler(Respond.json(routes::submit));
    router.get("/quizzes/:id/leaderboard").handler(Respond.json(routes::leaderboard));
    router.post("/admin/quizzes").handler(Respond.status(201, routes::create));
    router.get("/admin/quizzes").handler(Respond.json(routes::list));
    router.get("/admin/quizzes/:id").handler(Respond.json(routes::adminQuiz));
    router.patch("/admin/quizzes/:id").handler(Respond.json(routes::update));
    return router;
  }

  // ---- users ----

  Future<JsonObject> quiz(RoutingContext ctx) {
    long id = Ids.path(ctx, "id");
    return service.openQuiz(id).map(view -> publicSettingsJson(view.quiz())
        .put("questions", publicQuestions(view.content().questions())));
  }

  Future<JsonObject> start(RoutingContext ctx) {
    long id = Ids.path(ctx, "id");
    return service.start(Authenticate.user(ctx), id).map(started -> {
      List<Question> ordered = new ArrayList<>();
      started.attempt().questionOrder().forEach(qid -> ordered.add(started.content().question(qid)));
      return new JsonObject()
          .put("attemptId", Json.id(started.attempt().id()))
          .put("startedAt", Json.time(started.attempt().startedAt()))
          .put("deadline", Json.time(started.attempt().deadline()))
          // this attempt's own question order, without answers
          .put("questions", publicQuestions(ordered));
    });
  }

  Future<JsonObject> submit(RoutingContext ctx) {
    long quizId = Ids.path(ctx, "id");
    long attemptId = Ids.path(ctx, "attemptId");
    Input in = Input.of(ctx);
    JsonArray answers = in.array("answers", 0, 200, true);
    List<QuizService.Answer> parsed = new ArrayList<>();
    if (answers != null) {
      for (int i = 0; i < answers.size(); i++) {
        if (!(answers.getValue(i) instanceof JsonObject o)) {
          in.error("answers[" + i + "]", "must be an object");
          continue;
        }
        Input a = Input.of(o);
        Long questionId = a.id("questionId", true);
        Long choiceId = a.id("choiceId", true);
        in.nest("answers[" + i + "].", a);
        if (questionId != null && choiceId != null) {
          parsed.add(new QuizService.Answer(questionId, choiceId));
        }
      }
    }
    in.validate();
    return service.submit(Authenticate.user(ctx), quizId, attemptId, parsed).map(QuizRoutes::submissionJson);
  }

  /** The submit answer; also the stored {@code result} of an attempt and of a 409 {@code already_submitted}. */
  static JsonObject submissionJson(QuizService.Submission s) {
    JsonArray results = new JsonArray();
    s.results().forEach(r -> results.add(new JsonObject()
        .put("questionId", Json.id(r.questionId()))
        .put("correct", r.correct())
        .put("correctChoiceId", Json.id(r.correctChoiceId()))));
    return new JsonObject()
        .put("score", s.score())
        .put("total", s.total())
        .put("results", results)
        .put("pointsAwarded", s.pointsAwarded())
        .put("durationMs", s.durationMs())
        .put("rank", s.rank());
  }

  /** {@code GET /quizzes/{id}/attempts/{attemptId}}: the user's own attempt, with its result once submitted. */
  Future<JsonObject> attempt(RoutingContext ctx) {
    long quizId = Ids.path(ctx, "id");
    long attemptId = Ids.path(ctx, "attemptId");
    return service.attemptView(Authenticate.user(ctx), quizId, attemptId).map(view -> new JsonObject()
        .put("attemptId", Json.id(view.attempt().id()))
        .put("startedAt", Json.time(view.attempt().startedAt()))
        .put("deadline", Json.time(view.attempt().deadline()))
        .put("status", view.status())
        .put("result", view.result() == null ? null : submissionJson(view.result())));
  }

  /** {@code GET /quizzes}: published quizzes open now, newest first. */
  Future<JsonObject> openList(RoutingContext ctx) {
    Paging paging = Paging.of(ctx);
    return service.openQuizzes(paging.beforeId(), paging.fetch()).map(quizzes -> paging.page("items", quizzes,
        Quiz::id, q -> new JsonObject()
            .put("id", Json.id(q.id()))
            .put("title", q.title())
            .put("timeLimitSec", q.timeLimitSec())
            .put("maxAttempts", q.maxAttempts())
            .put("questionCount", q.questionCount())
            .put("startAt", Json.time(q.startAt()))
            .put("endAt", Json.time(q.endAt()))));
  }

  Future<JsonObject> leaderboard(RoutingContext ctx) {
    long id = Ids.path(ctx, "id");
    int limit = Paging.of(ctx).limit(); // API.md's list limit: default 20, 1..50
    return service.leaderboard(Authenticate.user(ctx), id, limit).compose(top -> {
      List<Leaderboard.Entry> entries = new ArrayList<>(top.entries());
      // equal score and duration: the same rank, listed by user id
      entries.sort(Comparator.comparingLong(Leaderboard.Entry::composite).reversed()
          .thenComparingLong(Leaderboard.Entry::userId));
      List<Long> userIds = new ArrayList<>();
      entries.forEach(e -> userIds.add(e.userId()));
      if (top.me() != null && !userIds.contains(top.me().userId())) {
        userIds.add(top.me().userId());
      }
      return service.nicknames(userIds).map(nicknames -> {
        JsonArray out = new JsonArray();
        long rank = 0;
        for (int i = 0; i < entries.size(); i++) {
          Leaderboard.Entry e = entries.get(i);
          if (i == 0 || e.composite() != entries.get(i - 1).composite()) {
            rank = i + 1;
          }
          out.add(entryJson(e, rank, nicknames.get(e.userId())));
        }
        JsonObject me = top.me() == null ? null
            : entryJson(top.me(), top.myRank(), nicknames.get(top.me().userId()));
        return new JsonObject().put("entries", out).put("me", me);
      });
    });
  }

  private static JsonObject entryJson(Leaderboard.Entry e, long rank, String nickname) {
    return new JsonObject()
        .put("rank", rank)
        .put("userId", Json.id(e.userId()))
        .put("nickname", nickname)
        .put("score", e.score())
        .put("durationMs", e.durationMs());
  }

  private static JsonArray publicQuestions(List<Question> questions) {
    JsonArray out = new JsonArray();
    for (Question q : questions) {
      JsonArray choices = new JsonArray();
      q.choices().forEach(c -> choices.add(new JsonObject().put("id", Json.id(c.id())).put("text", c.text())));
      out.add(new JsonObject().put("id", Json.id(q.id())).put("text", q.text()).put("choices", choices));
    }
    return out;
  }

  // ---- merchants ----

  Future<JsonObject> create(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    merchant.requireWriter();
    Input in = Input.of(ctx);
    String title = in.string("title", 1, 100, true);
    Long timeLimitSec = in.integer("timeLimitSec", 1, 86_400, true);
    Long maxAttempts = in.integer("maxAttempts", 1, 100, true);
    Long pointsPerCorrect = in.integer("pointsPerCorrect", 0, 10_000, true);
    OffsetDateTime startAt = in.time("startAt", false);
    OffsetDateTime endAt = in.time("endAt", false);
    String status = in.oneOf("status", STATUSES, false);
    List<NewQuestion> questions = questions(in, true);
    in.check(startAt == null || endAt == null || startAt.isBefore(endAt), "endAt", "must be after startAt");
    in.validate();
    QuizFields fields = new QuizFields(title, timeLimitSec.intValue(), maxAttempts.intValue(),
        pointsPerCorrect.intValue(), startAt, endAt, status == null ? "draft" : status);
    return service.create(merchant, Audit.who(ctx), fields, questions).map(QuizRoutes::adminJson);
  }

  Future<JsonObject> list(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    Paging paging = Paging.of(ctx);
    return service.list(merchant, paging.beforeId(), paging.fetch()).map(quizzes -> paging.page("items", quizzes,
        Quiz::id, q -> settingsJson(q).put("questionCount", q.questionCount())));
  }

  Future<JsonObject> adminQuiz(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    return service.get(merchant, Ids.path(ctx, "id")).map(QuizRoutes::adminJson);
  }

  Future<JsonObject> update(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    merchant.requireWriter();
    long id = Ids.path(ctx, "id");
    Input in = Input.of(ctx);
    String title = in.string("title", 1, 100, false);
    Long timeLimitSec = in.integer("timeLimitSec", 1, 86_400, false);
    Long maxAttempts = in.integer("maxAttempts", 1, 100, false);
    Long pointsPerCorrect = in.integer("pointsPerCorrect", 0, 10_000, false);
    OffsetDateTime startAt = in.time("startAt", false);
    OffsetDateTime endAt = in.time("endAt", false);
    String status = in.oneOf("status", STATUSES, false);
    List<NewQuestion> questions = in.has("questions") ? questions(in, true) : null;
    in.validate();
    QuizService.QuizPatch patch = new QuizService.QuizPatch(title, toInt(timeLimitSec), toInt(maxAttempts),
        toInt(pointsPerCorrect), in.has("startAt"), startAt, in.has("endAt"), endAt, status, questions);
    return service.update(merchant, Audit.who(ctx), id, patch).map(QuizRoutes::adminJson);
  }

  /** Questions with their choices; exactly one correct choice per question. Ids sent by the client are ignored. */
  private static List<NewQuestion> questions(Input in, boolean required) {
    JsonArray array = in.array("questions", 1, 100, required);
    if (array == null) {
      return null;
    }
    List<NewQuestion> out = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      String prefix = "questions[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject o)) {
        in.error(prefix, "must be an object");
        continue;
      }
      Input q = Input.of(o);
      String text = q.string("text", 1, 500, true);
      List<String> tags = q.strings("tags", 10, 32, false);
      JsonArray choiceArray = q.array("choices", 2, 10, true);
      List<NewChoice> choices = new ArrayList<>();
      if (choiceArray != null) {
        for (int j = 0; j < choiceArray.size(); j++) {
          if (!(choiceArray.getValue(j) instanceof JsonObject co)) {
            q.error("choices[" + j + "]", "must be an object");
            continue;
          }
          Input c = Input.of(co);
          String choiceText = c.string("text", 1, 200, true);
          Boolean correct = c.bool("correct", true);
          q.nest("choices[" + j + "].", c);
          choices.add(new NewChoice(choiceText, Boolean.TRUE.equals(correct)));
        }
        q.check(choices.stream().filter(NewChoice::correct).count() == 1, "choices",
            "exactly one choice must be correct");
      }
      in.nest(prefix + ".", q);
      out.add(new NewQuestion(text, tags == null ? List.of() : List.copyOf(new java.util.LinkedHashSet<>(tags)),
          choices));
    }
    return out;
  }

  private static Integer toInt(Long value) {
    return value == null ? null : value.intValue();
  }

  /** What users see of a quiz's settings. */
  private static JsonObject publicSettingsJson(Quiz q) {
    return new JsonObject()
        .put("id", Json.id(q.id()))
        .put("title", q.title())
        .put("timeLimitSec", q.timeLimitSec())
        .put("maxAttempts", q.maxAttempts())
        .put("pointsPerCorrect", q.pointsPerCorrect())
        .put("startAt", Json.time(q.startAt()))
        .put("endAt", Json.time(q.endAt()));
  }

  /** The merchant's view adds the lifecycle. */
  private static JsonObject settingsJson(Quiz q) {
    return publicSettingsJson(q)
        .put("status", q.status())
        .put("version", q.version())
        .put("createdAt", Json.time(q.createdAt()))
        .put("updatedAt", Json.time(q.updatedAt()));
  }

  static JsonObject adminJson(QuizView view) {
    JsonArray questions = new JsonArray();
    for (Question q : view.content().questions()) {
      JsonArray choices = new JsonArray();
      for (Choice c : q.choices()) {
        choices.add(new JsonObject().put("id", Json.id(c.id())).put("text", c.text()).put("correct", c.correct()));
      }
      questions.add(new JsonObject().put("id", Json.id(q.id())).put("text", q.text())
          .put("tags", new JsonArray(q.tags())).put("choices", choices));
    }
    return settingsJson(view.quiz()).put("questions", questions);
  }
}
