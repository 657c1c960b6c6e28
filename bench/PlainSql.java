import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/**
 * bench/plain.sh's SQL client: runs one statement against dev mode's embedded PostgreSQL (which ships no psql),
 * through the JDBC driver inside wxmp.jar. {@code java -cp wxmp.jar bench/PlainSql.java <port> <sql>}
 */
public class PlainSql {
  public static void main(String[] args) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + args[0] + "/postgres",
        "postgres", "postgres"); Statement s = c.createStatement()) {
      s.execute(args[1]);
    }
  }
}
