package io.wxmp.server.testkit;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.openapi.contract.OpenAPIVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.yaml.snakeyaml.Yaml;

/**
 * openapi.yaml as the tests hold the server to it (API.md: "the tests validate every answer they receive against
 * it"). {@link Http} hands every answer it receives to {@link #check}: the method and path must be an operation of the
 * document, the status one of that operation's responses (or its {@code default}), the Content-Type one the response
 * names and a JSON body valid against that response's schema. The schemas are checked by vertx-openapi's JSON Schema
 * 2020-12 repository with the OpenAPI 3.1 dialect and formats; the document itself is first validated against the
 * OpenAPI 3.1 meta-schema. Answers to paths the document does not have may only be API.md's 404 {@code not_found}
 * (405 {@code method_not_allowed} for a documented path and another method; 401 {@code unauthorized} behind the token
 * gates of /api/v1/admin/ and /api/v1/platform/): what the router says to a stranger. The document's
 * {@code x-shared-responses} (the HTTP decoder's 414 and 431, the slow body's 408) may answer any request. On the
 * management port only the operations tagged {@code management} exist.
 */
public final class Contract {
  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch",
      "trace");
  private static volatile Contract loaded;
  /** Prefixes whose token check runs before the routes: a stranger's path there gets 401 before it could get 404. */
  private static final List<String> GATED = List.of("/api/v1/admin/", "/api/v1/platform/");

  /** One operation of the document, with its absolute path template split at the slashes. */
  public record Operation(String id, HttpMethod method, String template, String[] segments, JsonObject responses,
      boolean management) {}

  /** Which of the server's ports answered: the public one (API, console, health) or the management one. */
  public enum Port { PUBLIC, MANAGEMENT }

  private final SchemaRepository repository;
  private final JsonObject document;
  private final List<Operation> operations = new ArrayList<>();
  private final JsonObject errorSchema;
  private final JsonObject shared;

  private Contract(SchemaRepository repository, JsonObject document) {
    this.repository = repository;
    this.document = document;
    String base = serverPath(document.getJsonArray("servers"), "");
    JsonObject paths = document.getJsonObject("paths");
    for (String name : paths.fieldNames()) {
      if (!JsonSchema.EXCLUDE_ANNOTATIONS.test(name)) {
        continue; // the resolver's own keys (__absolute_uri__ ...)
      }
      JsonObject item = paths.getJsonObject(name);
      String template = strip(serverPath(item.getJsonArray("servers"), base)) + name;
      for (String method : item.fieldNames()) {
        if (METHODS.contains(method)) {
          JsonObject op = item.getJsonObject(method);
          JsonArray tags = op.getJsonArray("tags", new JsonArray());
          operations.add(new Operation(op.getString("operationId"), HttpMethod.valueOf(method.toUpperCase(Locale.ROOT)),
              template, template.substring(1).split("/", -1), op.getJsonObject("responses"),
              tags.contains("management")));
        }
      }
    }
    this.errorSchema = document.getJsonObject("components").getJsonObject("schemas").getJsonObject("Error");
    this.shared = document.getJsonObject("x-shared-responses", new JsonObject());
  }

  /** The served document (server/src/main/resources/openapi.yaml), validated and with every $ref resolved. */
  public static Contract get() {
    Contract c = loaded;
    if (c == null) {
      synchronized (Contract.class) {
        if (loaded == null) {
          loaded = loadOffThread();
        }
        c = loaded;
      }
    }
    return c;
  }

  /** On a thread of its own: the first answer may arrive on an event loop, where nothing may wait. */
  private static Contract loadOffThread() {
    Contract[] result = new Contract[1];
    Throwable[] failure = new Throwable[1];
    Thread loader = new Thread(() -> {
      try {
        result[0] = load();
      } catch (Throwable t) {
        failure[0] = t;
      }
    }, "openapi-contract-loader");
    loader.start();
    try {
      loader.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while loading openapi.yaml", e);
    }
    if (failure[0] instanceof Error e) {
      throw e;
    } else if (failure[0] != null) {
      throw new AssertionError("openapi.yaml could not be loaded: " + failure[0], failure[0]);
    }
    return result[0];
  }

  private static Contract load() {
    JsonObject raw = rawDocument();
    Vertx vertx = Vertx.vertx();
    try {
      OpenAPIVersion version = OpenAPIVersion.fromContract(raw);
      SchemaRepository repository = version.getRepository(vertx, "app://").await(60, TimeUnit.SECONDS);
      OutputUnit lint = version.validateContract(vertx, repository, raw).await(60, TimeUnit.SECONDS);
      if (!Boolean.TRUE.equals(lint.getValid())) {
        throw new AssertionError("openapi.yaml is not a valid OpenAPI 3.1 document:\n" + describe(lint));
      }
      JsonObject resolved = version.resolve(vertx, repository, raw).await(60, TimeUnit.SECONDS);
      return new Contract(repository, resolved);
    } catch (AssertionError e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError("openapi.yaml could not be loaded: " + e, e);
    } finally {
      vertx.close();
    }
  }

  /** The document as written (YAML read into JSON), $refs unresolved. */
  public static JsonObject rawDocument() {
    try (InputStream in = Contract.class.getResourceAsStream("/openapi.yaml")) {
      if (in == null) {
        throw new IllegalStateException("openapi.yaml is not on the class path");
      }
      Object yaml = new Yaml().load(in);
      // through JSON text, so that every nested map becomes a JsonObject and every key a string
      return new JsonObject(Json.encode(yaml));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public List<Operation> operations() {
    return Collections.unmodifiableList(operations);
  }

  /** The resolved document. */
  public JsonObject document() {
    return document;
  }

  /**
   * What is wrong with this answer to {@code method path}, or null when the document allows it. The message names
   * the operation, the status and the schema's complaint.
   */
  public String check(HttpMethod method, String path, int status, MultiMap headers, Buffer body) {
    return check(Port.PUBLIC, method, path, status, headers, body);
  }

  /** {@link #check(HttpMethod, String, int, MultiMap, Buffer)} for an answer of the given port. */
  public String check(Port port, HttpMethod method, String path, int status, MultiMap headers, Buffer body) {
    int end = path.length();
    for (char stop : new char[] {'?', '#'}) {
      int at = path.indexOf(stop);
      if (at >= 0 && at < end) {
        end = at;
      }
    }
    // the router resolves dot segments (RFC 3986) before it routes
    String bare = java.net.URI.create("http://h" + path.substring(0, end)).normalize().getRawPath();
    String answer = method + " " + path + " -> " + status + (port == Port.MANAGEMENT ? " (management port)" : "");
    List<Operation> served = operations.stream().filter(o -> port == Port.PUBLIC || o.management()).toList();
    Operation op = find(served, method, bare);
    JsonObject sharedResponse = shared.getJsonObject(Integer.toString(status));
    if (op == null && sharedResponse != null) {
      return checkJson(answer + " (before routing)", errorSchema, headers, body, null);
    }
    if (op == null) {
      boolean pathKnown = served.stream().anyMatch(o -> matches(o, bare));
      if (status == 401 && port == Port.PUBLIC && GATED.stream().anyMatch(bare::startsWith)) {
        return checkJson(answer + " (no operation, behind a token gate)", errorSchema, headers, body, "unauthorized");
      }
      if (pathKnown && status == 405) {
        return checkJson(answer + " (no such method)", errorSchema, headers, body, "method_not_allowed");
      }
      if (status != 404) {
        return answer + ": " + (pathKnown ? "openapi.yaml has no " + method + " on this path"
            : "no operation of openapi.yaml has this path") + ", and the answer is not the router's 404 not_found"
            + (pathKnown ? " or 405 method_not_allowed" : "");
      }
      return checkJson(answer + " (no operation)", errorSchema, headers, body, "not_found");
    }
    String name = op.id() + " (" + op.method() + " " + op.template() + ")";
    String what = name + " answered " + status + " to " + method + " " + path;
    JsonObject response = op.responses().getJsonObject(Integer.toString(status));
    if (response == null) {
      response = op.responses().getJsonObject(Integer.toString(status / 100) + "XX");
    }
    if (response == null) {
      response = op.responses().getJsonObject("default");
    }
    if (response == null) {
      response = sharedResponse;
    }
    if (response == null) {
      return what + ": status " + status + " is not documented (documented: " + names(op.responses()) + ")";
    }
    String headerProblem = checkHeaders(what, response, headers);
    if (headerProblem != null) {
      return headerProblem;
    }
    JsonObject content = response.getJsonObject("content");
    boolean empty = body == null || body.length() == 0;
    if (content == null || names(content).isEmpty()) {
      return empty || method == HttpMethod.HEAD ? null
          : what + ": the response documents no body, but one came (" + preview(body) + ")";
    }
    String contentType = mediaType(headers);
    if (empty) {
      return what + ": the response documents a body (" + names(content) + "), but none came";
    }
    JsonObject media = contentType == null ? null : content.getJsonObject(contentType);
    if (media == null) {
      for (String key : names(content)) {
        if (key.endsWith("/*") && contentType != null && contentType.startsWith(key.substring(0, key.length() - 1))) {
          media = content.getJsonObject(key);
        }
      }
    }
    if (media == null) {
      return what + ": Content-Type " + contentType + " is not documented (documented: " + names(content) + ")";
    }
    JsonObject schema = media.getJsonObject("schema");
    if (schema == null || !json(contentType)) {
      return null;
    }
    return checkJson(what, schema, headers, body, null);
  }

  private String checkJson(String what, JsonObject schema, MultiMap headers, Buffer body, String code) {
    String contentType = mediaType(headers);
    if (!json(contentType)) {
      return what + ": Content-Type " + contentType + ", not application/json";
    }
    Object value;
    try {
      value = Json.decodeValue(body);
    } catch (DecodeException e) {
      return what + ": the body is not JSON: " + e.getMessage() + " (" + preview(body) + ")";
    }
    OutputUnit result = repository.validator(JsonSchema.of(schema)).validate(value);
    if (!Boolean.TRUE.equals(result.getValid())) {
      return what + ": the body does not match the documented schema:\n" + describe(result) + "\n  body: "
          + preview(body);
    }
    if (code != null && value instanceof JsonObject o && o.getJsonObject("error") != null
        && !code.equals(o.getJsonObject("error").getString("code"))) {
      return what + ": error code " + o.getJsonObject("error").getString("code") + ", expected " + code;
    }
    return null;
  }

  private String checkHeaders(String what, JsonObject response, MultiMap headers) {
    JsonObject documented = response.getJsonObject("headers");
    if (documented == null) {
      return null;
    }
    for (String name : names(documented)) {
      JsonObject header = documented.getJsonObject(name);
      String value = headers == null ? null : headers.get(name);
      if (value == null) {
        if (header.getBoolean("required", false)) {
          return what + ": the required header " + name + " is missing";
        }
        continue;
      }
      JsonObject schema = header.getJsonObject("schema");
      if (schema == null) {
        continue;
      }
      Object typed = value;
      String type = String.valueOf(schema.getValue("type"));
      try {
        if (type.equals("integer")) {
          typed = Long.parseLong(value.trim());
        } else if (type.equals("number")) {
          typed = Double.parseDouble(value.trim());
        }
      } catch (NumberFormatException e) {
        return what + ": header " + name + " is " + value + ", not " + type;
      }
      OutputUnit result = repository.validator(JsonSchema.of(schema)).validate(typed);
      if (!Boolean.TRUE.equals(result.getValid())) {
        return what + ": header " + name + " (" + value + ") does not match its schema:\n" + describe(result);
      }
    }
    return null;
  }

  private static Operation find(List<Operation> among, HttpMethod method, String path) {
    Operation best = null;
    int bestLiteral = -1;
    for (Operation op : among) {
      if (op.method().equals(method) && matches(op, path)) {
        int literal = 0;
        for (String s : op.segments()) {
          literal += s.startsWith("{") ? 0 : 1;
        }
        if (literal > bestLiteral) {
          best = op;
          bestLiteral = literal;
        }
      }
    }
    return best;
  }

  private static boolean matches(Operation op, String path) {
    if (!path.startsWith("/")) {
      return false;
    }
    String[] segments = path.substring(1).split("/", -1);
    if (segments.length != op.segments().length) {
      return false;
    }
    for (int i = 0; i < segments.length; i++) {
      String t = op.segments()[i];
      if (t.startsWith("{") && t.endsWith("}")) {
        if (segments[i].isEmpty()) {
          return false;
        }
      } else if (!t.equals(segments[i])) {
        return false;
      }
    }
    return true;
  }

  /** The keys of a resolved object, without the resolver's annotations. */
  private static List<String> names(JsonObject o) {
    return o.fieldNames().stream().filter(JsonSchema.EXCLUDE_ANNOTATIONS).toList();
  }

  private static String serverPath(JsonArray servers, String fallback) {
    if (servers == null || servers.isEmpty()) {
      return fallback;
    }
    String url = servers.getJsonObject(0).getString("url");
    int scheme = url.indexOf("://");
    if (scheme >= 0) {
      int slash = url.indexOf('/', scheme + 3);
      url = slash < 0 ? "" : url.substring(slash);
    }
    return url;
  }

  private static String strip(String base) {
    return base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
  }

  private static String mediaType(MultiMap headers) {
    String type = headers == null ? null : headers.get("Content-Type");
    if (type == null) {
      return null;
    }
    int semi = type.indexOf(';');
    return (semi < 0 ? type : type.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }

  private static boolean json(String mediaType) {
    return mediaType != null && (mediaType.equals("application/json") || mediaType.endsWith("+json"));
  }

  private static String preview(Buffer body) {
    if (body == null) {
      return "";
    }
    String text = body.toString();
    return text.length() > 400 ? text.substring(0, 400) + "…" : text;
  }

  /** The leaves of a Basic output unit, one per line: where in the body, which keyword, what is wrong. */
  static String describe(OutputUnit unit) {
    Map<String, String> lines = new LinkedHashMap<>();
    collect(unit, lines);
    if (lines.isEmpty()) {
      lines.put(String.valueOf(unit.getError()), "");
    }
    StringBuilder out = new StringBuilder();
    lines.keySet().forEach(l -> out.append("  ").append(l).append('\n'));
    return out.toString().stripTrailing();
  }

  private static void collect(OutputUnit unit, Map<String, String> lines) {
    if (unit.getErrors() != null && !unit.getErrors().isEmpty()) {
      for (OutputUnit e : unit.getErrors()) {
        collect(e, lines);
      }
    } else if (unit.getError() != null) {
      lines.put((unit.getInstanceLocation() == null || unit.getInstanceLocation().isEmpty() ? "(body)"
          : unit.getInstanceLocation()) + ": " + unit.getError() + " [" + unit.getKeywordLocation() + "]", "");
    }
  }
}
