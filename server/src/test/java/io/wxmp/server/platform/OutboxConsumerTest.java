package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.OutboxConsumer;
import io.wxmp.server.testkit.TestStack;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The outbox read by named consumers: each row once per consumer, across servers, none skipped when commits race. */
class OutboxConsumerTest {
  static TestStack stack;
  static Pool serverA;
  static Pool serverB;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    serverA = pool();
    serverB = pool();
  }

  @AfterAll
  static void stop() throws Exception {
    serverA.close().await(10, TimeUnit.SECONDS);
    serverB.close().await(10, TimeUnit.SECONDS);
  }

  private static Pool pool() {
    return PgBuilder.pool().with(new PoolOptions().setMaxSize(4))
        .connectingTo(PgConnectOptions.fromUri(stack.settings.get("WXMP_PG_URL"))).using(stack.clientVertx).build();
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static long insert(SqlConnection tx, String topic, int n) {
    return await(tx.preparedQuery("INSERT INTO outbox (topic, payload) VALUES ($1, $2) RETURNING id")
        .execute(Tuple.of(topic, new JsonObject().put("n", n)))).iterator().next().getLong(0);
  }

  private static long insert(String topic, int n) {
    return stack.sql("INSERT INTO outbox (topic, payload) VALUES ($1, $2) RETURNING id",
        Tuple.of(topic, new JsonObject().put("n", n))).iterator().next().getLong(0);
  }

  private static OutboxConsumer consumer(Pool pg, String name, String topic, List<Long> seen) {
    return new OutboxConsumer(stack.server().vertx(), pg, name, Set.of(topic), 7, 3_600_000, true,
        (tx, messages) -> {
          messages.forEach(m -> seen.add(m.id()));
          return Future.succeededFuture();
        });
  }

  @Test
  void twoServersPollingOneConsumerHandleEveryRowOnce() {
    String topic = "test." + UUID.randomUUID();
    String name = "test-consumer-" + UUID.randomUUID();
    List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    OutboxConsumer a = consumer(serverA, name, topic, seen);
    OutboxConsumer b = consumer(serverB, name, topic, seen);
    await(a.pollOnce()); // registers the position before the rows are written

    List<Long> written = new ArrayList<>();
    for (int round = 0; round < 10; round++) {
      for (int i = 0; i < 8; i++) {
        written.add(insert(topic, round * 8 + i));
      }
      List<Future<Integer>> polls = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        polls.add(a.pollOnce());
        polls.add(b.pollOnce());
      }
      await(Future.join(new ArrayList<>(polls)));
    }
    TestStack.eventually("every row handled", 20_000, () -> {
      await(a.pollOnce());
      await(b.pollOnce());
      return seen.size() >= written.size();
    });
    assertThat(seen).containsExactlyElementsOf(written); // once each, in outbox order
  }

  @Test
  void aRowWhoseTransactionCommitsLateIsNotSkipped() {
    String topic = "test." + UUID.randomUUID();
    List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    OutboxConsumer c = consumer(serverA, "test-consumer-" + UUID.randomUUID(), topic, seen);
    await(c.pollOnce());

    SqlConnection slow = await(serverB.getConnection());
    try {
      await(slow.query("BEGIN").execute());
      long early = insert(slow, topic, 1);  // the lower id, committed last
      long late = insert(topic, 2);          // the higher id, committed first
      assertThat(late).isGreaterThan(early);
      await(c.pollOnce());
      assertThat(seen).as("nothing is handed out while an older transaction may still add rows").isEmpty();
      await(slow.query("COMMIT").execute());
      await(c.pollOnce());
      assertThat(seen).containsExactly(early, late);
    } finally {
      slow.close();
    }
  }

  @Test
  void eachConsumerHasItsOwnPositionAndAFailedBatchComesAgain() {
    String topic = "test." + UUID.randomUUID();
    List<Long> first = Collections.synchronizedList(new ArrayList<>());
    List<Long> second = Collections.synchronizedList(new ArrayList<>());
    OutboxConsumer one = consumer(serverA, "test-one-" + UUID.randomUUID(), topic, first);
    boolean[] fail = {true};
    OutboxConsumer flaky = new OutboxConsumer(stack.server().vertx(), serverB, "test-flaky-" + UUID.randomUUID(),
        Set.of(topic), 50, 3_600_000, true, (tx, messages) -> {
          if (fail[0]) {
            // an effect written in the transaction, then a failure: both roll back
            return tx.query("SELECT 1").execute().compose(r -> Future.failedFuture("handler failed"));
          }
          messages.forEach(m -> second.add(m.id()));
          return Future.succeededFuture();
        });
    await(one.pollOnce());
    await(flaky.pollOnce());
    long id = insert(topic, 1);
    // a row behind another writer's id that has not committed yet waits for it (aRowWhoseTransactionCommitsLate...):
    // the shared server's traffic can hold such an id for a moment, so poll until the row is handed out
    TestStack.eventually("consumer one sees the row", 10_000, () -> {
      await(one.pollOnce());
      return !first.isEmpty();
    });
    assertThat(first).containsExactly(id);
    assertThatThrownBy(() -> flaky.pollOnce().await(10, TimeUnit.SECONDS)).hasMessageContaining("handler failed");
    assertThatThrownBy(() -> flaky.pollOnce().await(10, TimeUnit.SECONDS)).hasMessageContaining("handler failed");
    assertThat(second).isEmpty();
    fail[0] = false;
    await(flaky.pollOnce());
    assertThat(second).containsExactly(id);
    await(one.pollOnce());
    assertThat(first).containsExactly(id);
  }
}
