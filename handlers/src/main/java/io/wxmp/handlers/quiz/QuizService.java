package io.wxmp.handlers.quiz;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.ContentSecurity;
import io.wxmp.handlers.common.MerchantPrincipal;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.handlers.common.UserPrincipal;
import io.wxmp.handlers.quiz.QuizRepository.Attempt;
import io.wxmp.handlers.events.OnlineState;
import io.wxmp.handlers.quiz.QuizRepository.Content;
import io.wxmp.handlers.quiz.QuizRepository.NewQuestion;
import io.wxmp.handlers.quiz.QuizRepository.Question;
import io.wxmp.handlers.quiz.QuizRepository.Quiz;
import io.wxmp.handlers.quiz.QuizRepository.QuizFields;
import io.wxmp.handlers.quiz.QuizRepository.StartedAttempt;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quiz rules: merchants write versioned quizzes; users start attempts that the server times, and submit once; the
 * score, the points and the interest events commit together; the leaderboard follows after the commit.
 */
public final class QuizService {
  private static final Logger log = LoggerFactory.getLogger(QuizService.class);
  private static final int CACHE_LIMIT = 1_000;

  private final QuizRepository repository;
  private final Leaderboard leaderboard;
  private final long graceMs;
  private final boolean shuffle;
  private final OnlineState online;
  private final ProfileCache profiles;
  /** Question sets never change once written (edits make a new version), so they can be cached by version. */
  private final Map<String, Content> contents = new ConcurrentHashMap<>();

  private final ContentSecurity contentSecurity;

  /**
   * @param online where the interest tags of answered questions go once a submit commits (the feed reads them)
   * @param contentSecurity WeChat's check of what a merchant publishes
   */
  public QuizService(QuizRepository repository, Leaderboard leaderboard, long graceMs, boolean shuffle,
      OnlineState online, ContentSecurity contentSecurity, ProfileCache profiles) {
    this.online = online;
    this.profiles = profiles;
    this.repository = repository;
    this.contentSecurity = contentSecurity;
    this.leaderboard = leaderboard;
    this.graceMs = graceMs;
    this.shuffle = shuffle;
  }

  /** A quiz with the question set it shows now. */
  public record QuizView(Quiz quiz, Content content) {}

  /** A patch: null fields stay as they are; {@code setStartAt}/{@code setEndAt} say whether the window changes. */
  public record QuizPatch(String title, Integer timeLimitSec, Integer maxAttempts, Integer pointsPerCorrect,
      boolean setStartAt, OffsetDateTime startAt, boolean setEndAt, OffsetDateTime endAt, String status,
      List<NewQuestion> questions) {}

  public record Answer(long questionId, long choiceId) {}

  public record Result(long questionId, boolean correct, long correctChoiceId) {}

  public record Submission(int score, int total, List<Result> results, int pointsAwarded, long durationMs, Long rank) {}

  public record Started(StartedAttempt attempt, Content content) {}

  // ---- merchants ----

  public Future<QuizView> create(MerchantPrincipal merchant, Audit.Who who, QuizFields fields,
      List<NewQuestion> questions) {
    merchant.requireWriter();
    Future<Void> checked = "published".equals(fields.status())
        ? contentSecurity.check(texts(fields.title(), questions)) : Future.succeededFuture();
    return checked.compose(v -> repository.create(merchant.merchantId(), fields, questions, who)).compose(this::view);
  }

  /** A quiz's texts for content security, named as the request names them ({@code questions[2].choices[0].text}). */
  private static Map<String, String> texts(String title, List<NewQuestion> questions) {
    Map<String, String> texts = new java.util.LinkedHashMap<>();
    if (title != null) {
      texts.put("title", title);
    }
    if (questions != null) {
      for (int i = 0; i < questions.size(); i++) {
        NewQuestion q = questions.get(i);
        texts.put("questions[" + i + "].text", q.text());
        for (int j = 0; j < q.choices().size(); j++) {
          texts.put("questions[" + i + "].choices[" + j + "].text", q.choices().get(j).text());
        }
      }
    }
    return texts;
  }

  private static List<NewQuestion> asNew(Content content) {
    List<NewQuestion> out = new ArrayList<>();
    for (Question q : content.questions()) {
      List<QuizRepository.NewChoice> choices = new ArrayList<>();
      q.choices().forEach(c -> choices.add(new QuizRepository.NewChoice(c.text(), c.correct())));
      out.add(new NewQuestion(q.text(), q.tags(), choices));
    }
    return out;
  }

  public Future<List<Quiz>> list(MerchantPrincipal merchant, Long beforeId, int limit) {
    return repository.list(merchant.merchantId(), beforeId, limit);
  }

  public Future<QuizView> get(MerchantPrincipal merchant, long id) {
    return repository.merchantQuiz(id, merchant.merchantId()).compose(this::viewOr404);
  }

  /**
   * Edits a quiz. Settings change in place; new questions become a new version, and attempts keep the version they
   * started with, so no finished attempt's score (stored on the attempt) is ever recomputed.
   */
  public Future<QuizView> update(MerchantPrincipal merchant, Audit.Who who, long id, QuizPatch patch) {
    merchant.requireWriter();
    return repository.update(id, merchant.merchantId(), current -> {
      QuizFields merged = merge(current, patch);
      if (!"published".equals(merged.status())) {
        return Future.succeededFuture(merged);
      }
      // publishing checks every text; editing a published quiz checks what changed
      boolean publishing = !"published".equals(current.status());
      String title = publishing || !merged.title().equals(current.title()) ? merged.title() : null;
      Future<List<NewQuestion>> questions = patch.questions() != null ? Future.succeededFuture(patch.questions())
          : publishing ? content(id, current.version()).map(QuizService::asNew) : Future.succeededFuture(null);
      return questions.compose(qs -> contentSecurity.check(texts(title, qs))).map(merged);
    }, patch.questions(), who).compose(this::viewOr404);
  }

  private static QuizFields merge(Quiz q, QuizPatch p) {
    OffsetDateTime startAt = p.setStartAt() ? p.startAt() : q.startAt();
    OffsetDateTime endAt = p.setEndAt() ? p.endAt() : q.endAt();
    if (startAt != null && endAt != null && !startAt.isBefore(endAt)) {
      throw ApiException.invalid(new JsonObject().put("endAt", "must be after startAt"));
    }
    return new QuizFields(p.title() != null ? p.title() : q.title(),
        p.timeLimitSec() != null ? p.timeLimitSec() : q.timeLimitSec(),
        p.maxAttempts() != null ? p.maxAttempts() : q.maxAttempts(),
        p.pointsPerCorrect() != null ? p.pointsPerCorrect() : q.pointsPerCorrect(),
        startAt, endAt, p.status() != null ? p.status() : q.status());
  }

  // ---- users ----

  /** A published quiz inside its window; anything else is 404 to users. */
  public Future<QuizView> openQuiz(long id) {
    return repository.openQuiz(id).compose(this::viewOr404);
  }

  public Future<Started> start(UserPrincipal user, long quizId) {
    return repository.startAttempt(quizId, user.userId(), shuffle).compose(started -> started != null
        ? content(quizId, started.version()).map(content -> new Started(started, content))
        : repository.openQuiz(quizId).compose(quiz -> Future.failedFuture(quiz == null
            ? ApiException.notFound()
            : ApiException.conflict("attempts_exhausted", "You have used all " + quiz.maxAttempts()
                + " attempts at this quiz."))));
  }

  /**
   * Grades against the question set the attempt was started with, then submits exactly once (see
   * {@link QuizRepository#submit}); the deadline is checked against the database clock, never the client's.
   */
  public Future<Submission> submit(UserPrincipal user, long quizId, long attemptId, List<Answer> answers) {
    return repository.attempt(attemptId, quizId, user.userId()).compose(attempt -> {
      if (attempt == null) {
        return Future.failedFuture(ApiException.notFound());
      }
      if (attempt.submittedAt() != null) {
        return storedResult(attempt, user.userId())
            .compose(result -> Future.failedFuture(alreadySubmitted(result)));
      }
      return content(quizId, attempt.version()).compose(content -> {
        Map<Long, Long> chosen = checkAnswers(attempt.questionOrder(), content, answers);
        List<Result> results = new ArrayList<>();
        List<Long> questionIds = new ArrayList<>();
        List<Long> choiceIds = new ArrayList<>();
        List<Boolean> correct = new ArrayList<>();
        List<String> tags = new ArrayList<>();
        List<Float> weights = new ArrayList<>();
        int score = 0;
        for (long questionId : attempt.questionOrder()) {
          Question question = content.question(questionId);
          Long choice = chosen.get(questionId);
          boolean right = choice != null && choice == question.correctChoiceId();
          score += right ? 1 : 0;
          results.add(new Result(questionId, right, question.correctChoiceId()));
          if (choice != null) {
            questionIds.add(questionId);
            choiceIds.add(choice);
            correct.add(right);
            // an answered question is a sign of interest in its tags; a right answer a stronger one
            for (String tag : question.tags()) {
              tags.add(tag);
              weights.add(right ? 1.0f : 0.5f);
            }
          }
        }
        int total = attempt.questionOrder().size();
        int points = score * attempt.pointsPerCorrect();
        int finalScore = score;
        QuizRepository.Grading grading = new QuizRepository.Grading(score, total, points, questionIds, choiceIds,
            correct, tags, weights);
        Future<QuizRepository.Submitted> submitted = repository.submit(attemptId, user.userId(), graceMs, grading);
        // the award changes the points GET /me shows (invalidated after the commit, or after an unknown outcome)
        if (points > 0) {
          submitted = submitted.eventually(() -> profiles.invalidate(user.userId()));
        }
        return submitted.compose(done -> {
          if (done.durationMs() == null) {
            // a concurrent submit won: answer what it stored
            return done.alreadySubmitted()
                ? repository.attempt(attemptId, quizId, user.userId()).compose(a -> storedResult(a, user.userId()))
                    .compose(result -> Future.failedFuture(alreadySubmitted(result)))
                : Future.failedFuture(ApiException.conflict("attempt_expired", "The time for this attempt ran out."));
          }
          Future<Void> interests = recordInterests(user.userId(), tags, weights);
          return interests.compose(v -> leaderboard.record(quizId, user.userId(), finalScore, done.durationMs()))
              // the submit is committed: a Redis hiccup must not turn it into an error (the board is rebuilt
              // from PostgreSQL when it goes missing)
              .recover(failure -> {
                log.warn("leaderboard of quiz {} not updated for attempt {}: {}", quizId, attemptId,
                    failure.toString());
                return Future.succeededFuture(null);
              })
              .map(rank -> new Submission(finalScore, total, results, points, done.durationMs(), rank));
        });
      });
    });
  }

  /**
   * The committed interest rows reach the feed's online state too (recent tags); like the leaderboard, a Redis
   * hiccup here is logged and does not fail the submit, whose rows in user_interest_events stay the durable record.
   */
  private Future<Void> recordInterests(long userId, List<String> tags, List<Float> weights) {
    Map<String, Float> byTag = new java.util.HashMap<>();
    for (int i = 0; i < tags.size(); i++) {
      byTag.merge(tags.get(i), weights.get(i), Float::sum);
    }
    return online.addInterests(Long.toString(userId), byTag, java.time.Instant.now()).recover(failure -> {
      log.warn("interest tags of user {} not added to the online state: {}", userId, failure.toString());
      return Future.succeededFuture();
    });
  }

  /** Every answer must name a question of this attempt (once) and one of that question's choices. */
  private static Map<Long, Long> checkAnswers(List<Long> order, Content content, List<Answer> answers) {
    Set<Long> inAttempt = new HashSet<>(order);
    Map<Long, Long> chosen = new java.util.HashMap<>();
    JsonObject fields = new JsonObject();
    for (int i = 0; i < answers.size(); i++) {
      Answer a = answers.get(i);
      Question question = inAttempt.contains(a.questionId()) ? content.question(a.questionId()) : null;
      if (question == null) {
        fields.put("answers[" + i + "].questionId", "is not a question of this attempt");
      } else if (chosen.containsKey(a.questionId())) {
        fields.put("answers[" + i + "].questionId", "answers the same question twice");
      } else if (question.choices().stream().noneMatch(c -> c.id() == a.choiceId())) {
        fields.put("answers[" + i + "].choiceId", "is not a choice of this question");
      } else {
        chosen.put(a.questionId(), a.choiceId());
      }
    }
    if (!fields.isEmpty()) {
      throw ApiException.invalid(fields);
    }
    return chosen;
  }

  /** The board of a published quiz (also after its window closed). */
  public Future<Leaderboard.Top> leaderboard(UserPrincipal user, long quizId, int limit) {
    return repository.publishedQuiz(quizId).compose(quiz -> quiz == null
        ? Future.failedFuture(ApiException.notFound())
        : leaderboard.top(quizId, user.userId(), limit));
  }

  public Future<Map<Long, String>> nicknames(List<Long> userIds) {
    return userIds.isEmpty() ? Future.succeededFuture(Map.of()) : repository.nicknames(userIds);
  }

  // ---- helpers ----

  private Future<QuizView> viewOr404(Quiz quiz) {
    return quiz == null ? Future.failedFuture(ApiException.notFound()) : view(quiz);
  }

  private Future<QuizView> view(Quiz quiz) {
    return content(quiz.id(), quiz.version()).map(content -> new QuizView(quiz, content));
  }

  private Future<Content> content(long quizId, int version) {
    String key = quizId + ":" + version;
    Content cached = contents.get(key);
    if (cached != null) {
      return Future.succeededFuture(cached);
    }
    return repository.content(quizId, version).onSuccess(loaded -> {
      if (contents.size() >= CACHE_LIMIT) {
        contents.clear(); // crude bound; a miss costs one indexed query
      }
      contents.put(key, loaded);
    });
  }

  private static ApiException alreadySubmitted(Submission result) {
    ApiException e = ApiException.conflict("already_submitted", "This attempt was submitted already.");
    return result == null ? e : e.with("result", QuizRoutes.submissionJson(result));
  }

  /** The user's own attempt as it stands, with its stored result once submitted. */
  public record AttemptView(Attempt attempt, String status, Submission result) {}

  public Future<AttemptView> attemptView(UserPrincipal user, long quizId, long attemptId) {
    return repository.attempt(attemptId, quizId, user.userId()).compose(attempt -> {
      if (attempt == null) {
        return Future.failedFuture(ApiException.notFound());
      }
      if (attempt.submittedAt() != null) {
        return storedResult(attempt, user.userId()).map(result -> new AttemptView(attempt, "submitted", result));
      }
      boolean expired = OffsetDateTime.now().isAfter(attempt.deadline().plusNanos(graceMs * 1_000_000));
      return Future.succeededFuture(new AttemptView(attempt, expired ? "expired" : "open", null));
    });
  }

  /**
   * What the submit answered, rebuilt from what it stored (the score, the answers and the question set the attempt
   * was pinned to); the rank is the user's rank now. Null for an attempt not submitted.
   */
  private Future<Submission> storedResult(Attempt attempt, long userId) {
    if (attempt == null || attempt.submittedAt() == null) {
      return Future.succeededFuture(null);
    }
    return content(attempt.quizId(), attempt.version()).compose(content -> repository.answers(attempt.id())
        .compose(answers -> {
          Map<Long, QuizRepository.StoredAnswer> byQuestion = new java.util.HashMap<>();
          answers.forEach(a -> byQuestion.put(a.questionId(), a));
          List<Result> results = new ArrayList<>();
          for (long questionId : attempt.questionOrder()) {
            Question question = content.question(questionId);
            QuizRepository.StoredAnswer a = byQuestion.get(questionId);
            results.add(new Result(questionId, a != null && a.correct(), question.correctChoiceId()));
          }
          return leaderboard.top(attempt.quizId(), userId, 1)
              .map(top -> top.myRank())
              .recover(failure -> Future.succeededFuture(null))
              .map(rank -> new Submission(attempt.score(), attempt.total(), results,
                  attempt.pointsAwarded() == null ? 0 : attempt.pointsAwarded(),
                  attempt.durationMs() == null ? 0 : attempt.durationMs(), rank));
        }));
  }

  /** Published quizzes open now (GET /quizzes). */
  public Future<List<Quiz>> openQuizzes(Long beforeId, int limit) {
    return repository.openList(beforeId, limit);
  }
}
