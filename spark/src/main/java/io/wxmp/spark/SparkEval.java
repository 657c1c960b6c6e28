package io.wxmp.spark;

import io.wxmp.recsys.Interactions;
import io.wxmp.recsys.eval.Evaluator;
import io.wxmp.recsys.eval.Popularity;
import io.wxmp.recsys.eval.Ratings;
import io.wxmp.recsys.eval.Split;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Spark ALS (implicit) under the offline protocol of {@code bench/recsys-eval.sh} (RECSYS.md §5): the same strong
 * generalisation splits and {@link Evaluator}; held-out users are folded in by ALS's own user step (Spark's implicit
 * normal equation: YᵀY + Σ (c − 1) y yᵀ + λ·n I, c = 1 + alpha), so the numbers sit beside the iALS rows of
 * {@code EvalMain}. {@code bench/spark-eval.sh} runs it.
 *
 * <p>Usage: {@code SparkEval FILE [--min-rating 4] [--seeds 5] [--dim 64] [--epochs 16] [--reg 0.05] [--alpha 10]
 * [--tune] [--master local[2]]}.
 */
public final class SparkEval {
  private SparkEval() {}

  public static void main(String[] args) throws Exception {
    String file = args[0];
    java.util.Map<String, String> o = new java.util.HashMap<>();
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--tune")) {
        o.put("tune", "true");
      } else {
        o.put(args[i].substring(2), args[++i]);
      }
    }
    double minRating = Double.parseDouble(o.getOrDefault("min-rating", "4"));
    int seeds = Integer.parseInt(o.getOrDefault("seeds", "5"));
    int dim = Integer.parseInt(o.getOrDefault("dim", "64"));
    int epochs = Integer.parseInt(o.getOrDefault("epochs", "16"));
    double reg = Double.parseDouble(o.getOrDefault("reg", "0.05"));
    double alpha = Double.parseDouble(o.getOrDefault("alpha", "10"));
    Ratings ratings = Ratings.read(Path.of(file));
    try (SparkSession spark = SparkSession.builder().master(o.getOrDefault("master", "local[2]"))
        .appName("wxmp-spark-eval").config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4").getOrCreate()) {
      spark.sparkContext().setLogLevel("WARN");
      if (o.containsKey("tune")) {
        Split s = Split.strong(ratings, minRating, 0);
        double best = -1;
        for (double r : new double[] {0.01, 0.05, 0.1}) {
          for (double a : new double[] {1, 10, 40}) {
            Fit f = fit(spark, s.train(), dim, epochs, r, a, 0);
            double v = f.evaluate(s, s.validation())[Evaluator.METRICS.indexOf("NDCG@100")];
            System.out.printf(Locale.ROOT, "- tune: reg %s alpha %s -> validation NDCG@100 %.4f%n", r, a, v);
            if (v > best) {
              best = v;
              reg = r;
              alpha = a;
            }
          }
        }
      }
      List<double[]> rows = new ArrayList<>();
      List<Double> seconds = new ArrayList<>();
      for (int seed = 0; seed < seeds; seed++) {
        Split s = Split.strong(ratings, minRating, seed);
        Fit f = fit(spark, s.train(), dim, epochs, reg, alpha, seed);
        seconds.add(f.trainSeconds());
        rows.add(f.evaluate(s, s.test()));
        System.out.printf(Locale.ROOT, "- seed %d: %,d train users, %,d items, %,d train positives, %d test users, "
            + "ALS fit %.2f s%n", seed, s.train().users(), s.items(), s.train().nnz(), s.test().size(),
            f.trainSeconds());
      }
      StringBuilder head = new StringBuilder("| model |");
      StringBuilder rule = new StringBuilder("|---|");
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| Spark ALS implicit (d %d, λ %s, alpha %s) |",
          dim, reg, alpha));
      for (int m = 0; m < Evaluator.METRICS.size(); m++) {
        head.append(' ').append(Evaluator.METRICS.get(m)).append(" |");
        rule.append("---:|");
        double mean = 0;
        for (double[] r : rows) {
          mean += r[m] / rows.size();
        }
        double var = 0;
        for (double[] r : rows) {
          var += (r[m] - mean) * (r[m] - mean) / Math.max(1, rows.size() - 1);
        }
        row.append(String.format(Locale.ROOT, " %.3f ± %.3f |", mean, Math.sqrt(var)));
      }
      System.out.println();
      System.out.println(head);
      System.out.println(rule);
      System.out.println(row);
      System.out.printf(Locale.ROOT, "%n- Spark ALS fit: %.2f s mean per seed (%s, %d epochs)%n",
          seconds.stream().mapToDouble(Double::doubleValue).average().orElse(0), spark.sparkContext().master(),
          epochs);
    }
  }

  /** Trained item vectors and the fold-in that goes with them. */
  record Fit(int items, int dim, float[] itemVectors, double reg, double alpha, double trainSeconds) {
    double[] evaluate(Split s, List<Split.HeldOut> users) {
      double[] gram = new double[dim * dim];
      for (int i = 0; i < items; i++) {
        for (int a = 0; a < dim; a++) {
          float ya = itemVectors[i * dim + a];
          for (int b = 0; b < dim; b++) {
            gram[a * dim + b] += ya * itemVectors[i * dim + b];
          }
        }
      }
      Evaluator ev = new Evaluator(s.items(), Popularity.counts(s.train()), itemVectors, dim);
      return ev.evaluate(users, Evaluator.byScore(fold -> {
        float[] x = foldIn(gram, fold);
        float[] scores = new float[items];
        for (int i = 0; i < items; i++) {
          float d = 0;
          for (int k = 0; k < dim; k++) {
            d += x[k] * itemVectors[i * dim + k];
          }
          scores[i] = d;
        }
        return scores;
      }));
    }

    /** ALS's implicit user step for a history of strength-1 items. */
    float[] foldIn(double[] gram, int[] fold) {
      double c = 1 + alpha;
      double[] m = gram.clone();
      double[] rhs = new double[dim];
      for (int i : fold) {
        for (int a = 0; a < dim; a++) {
          double ya = itemVectors[i * dim + a];
          rhs[a] += c * ya;
          for (int b = 0; b < dim; b++) {
            m[a * dim + b] += (c - 1) * ya * itemVectors[i * dim + b];
          }
        }
      }
      for (int a = 0; a < dim; a++) {
        m[a * dim + a] += reg * Math.max(1, fold.length);
      }
      // Cholesky: m = L Lᵀ, then two triangular solves
      for (int j = 0; j < dim; j++) {
        double sum = m[j * dim + j];
        for (int k = 0; k < j; k++) {
          sum -= m[j * dim + k] * m[j * dim + k];
        }
        double d = Math.sqrt(Math.max(sum, 1e-12));
        m[j * dim + j] = d;
        for (int i = j + 1; i < dim; i++) {
          double t = m[i * dim + j];
          for (int k = 0; k < j; k++) {
            t -= m[i * dim + k] * m[j * dim + k];
          }
          m[i * dim + j] = t / d;
        }
      }
      double[] y = new double[dim];
      for (int i = 0; i < dim; i++) {
        double t = rhs[i];
        for (int k = 0; k < i; k++) {
          t -= m[i * dim + k] * y[k];
        }
        y[i] = t / m[i * dim + i];
      }
      float[] x = new float[dim];
      double[] xs = new double[dim];
      for (int i = dim - 1; i >= 0; i--) {
        double t = y[i];
        for (int k = i + 1; k < dim; k++) {
          t -= m[k * dim + i] * xs[k];
        }
        xs[i] = t / m[i * dim + i];
        x[i] = (float) xs[i];
      }
      return x;
    }
  }

  static Fit fit(SparkSession spark, Interactions train, int dim, int epochs, double reg, double alpha, long seed) {
    List<Row> rows = new ArrayList<>((int) train.nnz());
    for (int u = 0; u < train.users(); u++) {
      int[] its = train.itemsOf(u);
      float[] st = train.strengthsOf(u);
      for (int k = 0; k < its.length; k++) {
        rows.add(RowFactory.create(u, its[k], st[k]));
      }
    }
    StructType schema = new StructType().add("user", DataTypes.IntegerType).add("item", DataTypes.IntegerType)
        .add("rating", DataTypes.FloatType);
    Dataset<Row> data = spark.createDataFrame(rows, schema).repartition(4).cache();
    data.count();
    long t0 = System.nanoTime();
    ALSModel model = new ALS().setImplicitPrefs(true).setRank(dim).setMaxIter(epochs).setRegParam(reg)
        .setAlpha(alpha).setSeed(seed).setUserCol("user").setItemCol("item").setRatingCol("rating").fit(data);
    float[] items = new float[train.items() * dim];
    for (Row r : model.itemFactors().collectAsList()) {
      List<Object> f = r.getList(1);
      for (int k = 0; k < dim; k++) {
        items[r.getInt(0) * dim + k] = ((Number) f.get(k)).floatValue();
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    data.unpersist();
    return new Fit(train.items(), dim, items, reg, alpha, seconds);
  }
}
