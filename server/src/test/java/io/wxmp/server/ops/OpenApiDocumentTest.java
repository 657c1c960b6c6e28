package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.common.Messages;
import io.wxmp.server.testkit.Contract;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** The served contract document: an operationId per operation, and paged lists named items (API.md Conventions). */
class OpenApiDocumentTest {
  private static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete");

  @SuppressWarnings("unchecked")
  private static Map<String, Object> document() throws Exception {
    try (InputStream in = OpenApiDocumentTest.class.getResourceAsStream("/openapi.yaml")) {
      return new Yaml().load(in);
    }
  }

  /** OpenAPI 3.1 (JSON Schema 2020-12): null is a type, and 3.0's nullable keyword means nothing there. */
  @Test
  void isOpenApi31WithoutThreeZeroKeywords() throws Exception {
    Map<String, Object> doc = document();
    assertThat(String.valueOf(doc.get("openapi"))).startsWith("3.1.");
    List<String> found = new ArrayList<>();
    find(doc, "", found);
    assertThat(found).as("nullable keywords (write type: [X, 'null'])").isEmpty();
  }

  @SuppressWarnings("unchecked")
  private static void find(Object node, String at, List<String> found) {
    if (node instanceof Map<?, ?> map) {
      map.forEach((k, v) -> {
        if ("nullable".equals(k) && !(at.endsWith("/properties"))) {
          found.add(at);
        }
        find(v, at + "/" + k, found);
      });
    } else if (node instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        find(list.get(i), at + "/" + i, found);
      }
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyOperationHasAUniqueOperationId() throws Exception {
    Map<String, Object> paths = (Map<String, Object>) document().get("paths");
    List<String> missing = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    List<String> repeated = new ArrayList<>();
    paths.forEach((path, item) -> ((Map<String, Object>) item).forEach((method, op) -> {
      if (!METHODS.contains(method)) {
        return;
      }
      Object id = ((Map<String, Object>) op).get("operationId");
      if (id == null) {
        missing.add(method.toUpperCase() + " " + path);
      } else if (!seen.add(id.toString())) {
        repeated.add(id.toString());
      } else {
        assertThat(id.toString()).matches("[a-z][A-Za-z0-9]*");
      }
    }));
    assertThat(missing).as("operations without an operationId").isEmpty();
    assertThat(repeated).as("operationIds used twice").isEmpty();
  }

  /** The document is valid OpenAPI 3.1 (vertx-openapi's copy of the official meta-schema): Contract refuses others. */
  @Test
  void isAValidOpenApi31Document() {
    assertThat(Contract.get().operations()).hasSizeGreaterThan(60);
  }

  /** The Error schema's code enum is exactly the codes the server has messages for: no code left undocumented. */
  @Test
  void everyErrorCodeIsDocumented() {
    JsonObject code = Contract.rawDocument().getJsonObject("components").getJsonObject("schemas")
        .getJsonObject("Error").getJsonObject("properties").getJsonObject("error").getJsonObject("properties")
        .getJsonObject("code");
    Set<String> documented = new TreeSet<>();
    code.getJsonArray("enum").forEach(c -> documented.add(c.toString()));
    assertThat(documented).isEqualTo(new TreeSet<>(Messages.codes()));
    for (String c : documented) {
      assertThat(code.getString("description")).as("the description says when " + c + " is sent").contains(c);
    }
  }

  /**
   * Every object an answer may hold is closed and says which fields it always has: {@code additionalProperties} (a
   * map's value schema, or false beside {@code properties}) or, for an allOf composition, {@code
   * unevaluatedProperties: false} above it, and {@code required}, so that the validation of the tests' answers catches
   * a field that is missing or one that is not documented. AdminItem (the merchants' item input) and FeedParams (every
   * parameter optional) are the two objects without required fields; both are closed.
   */
  @Test
  @SuppressWarnings("unchecked")
  void everyAnswerSchemaIsClosedAndSaysWhatItRequires() throws Exception {
    Map<String, Object> doc = document();
    Set<String> problems = new TreeSet<>();
    Set<String> seen = new HashSet<>();
    ((Map<String, Object>) doc.get("paths")).forEach((path, item) -> ((Map<String, Object>) item).forEach((m, op) -> {
      if (!METHODS.contains(m)) {
        return;
      }
      Map<String, Object> operation = (Map<String, Object>) op;
      ((Map<String, Object>) operation.get("responses")).forEach((status, r) -> {
        Map<String, Object> response = (Map<String, Object>) deref(doc, r);
        Map<String, Object> content = (Map<String, Object>) response.get("content");
        if (content != null) {
          content.forEach((type, media) -> {
            Object schema = ((Map<String, Object>) media).get("schema");
            if (schema != null) {
              closed(doc, schema, operation.get("operationId") + " " + status + " " + type, false, seen, problems);
            }
          });
        }
      });
    }));
    closed(doc, Map.of("$ref", "#/components/schemas/Error"), "Error", false, seen, problems);
    assertThat(problems).as("open or requirement-less objects in answers").isEmpty();
  }

  private static final Set<String> WITHOUT_REQUIRED = Set.of("#/components/schemas/AdminItem",
      "#/components/schemas/FeedParams");

  @SuppressWarnings("unchecked")
  private static void closed(Map<String, Object> doc, Object node, String at, boolean closedAbove, Set<String> seen,
      Set<String> problems) {
    if (node instanceof Map<?, ?> m && m.get("$ref") instanceof String ref) {
      if (!seen.add(ref + closedAbove)) {
        return;
      }
      node = deref(doc, node);
      at = ref;
    }
    if (!(node instanceof Map<?, ?>)) {
      return;
    }
    Map<String, Object> schema = (Map<String, Object>) node;
    boolean closedHere = closedAbove || Boolean.FALSE.equals(schema.get("unevaluatedProperties"));
    if (schema.containsKey("properties")) {
      if (!schema.containsKey("additionalProperties") && !closedHere) {
        problems.add(at + ": neither additionalProperties nor unevaluatedProperties");
      }
      if (!schema.containsKey("required") && !WITHOUT_REQUIRED.contains(at)) {
        problems.add(at + ": no required");
      }
      final String here = at;
      ((Map<String, Object>) schema.get("properties")).forEach((name, p) ->
          closed(doc, p, here + "/" + name, false, seen, problems));
    }
    for (String combinator : List.of("allOf", "anyOf", "oneOf")) {
      if (schema.get(combinator) instanceof List<?> parts) {
        for (int i = 0; i < parts.size(); i++) {
          closed(doc, parts.get(i), at + "/" + combinator + "/" + i, combinator.equals("allOf") && closedHere, seen,
              problems);
        }
      }
    }
    if (schema.get("items") instanceof Map<?, ?> items) {
      closed(doc, items, at + "/items", false, seen, problems);
    }
    if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
      closed(doc, values, at + "/*", false, seen, problems);
    }
  }

  /** The node a local $ref (#/a/b/c) points at, or the node itself. */
  @SuppressWarnings("unchecked")
  private static Object deref(Map<String, Object> doc, Object node) {
    if (node instanceof Map<?, ?> m && m.get("$ref") instanceof String ref && ref.startsWith("#/")) {
      Object target = doc;
      for (String part : ref.substring(2).split("/")) {
        target = ((Map<String, Object>) target).get(part);
      }
      return target;
    }
    return node;
  }

  /** A GET that takes a cursor answers {"items": [...], "nextCursor"}: no other array name. */
  @Test
  @SuppressWarnings("unchecked")
  void pagedListsNameTheirArrayItems() throws Exception {
    Map<String, Object> paths = (Map<String, Object>) document().get("paths");
    List<String> wrong = new ArrayList<>();
    paths.forEach((path, item) -> {
      Map<String, Object> get = (Map<String, Object>) ((Map<String, Object>) item).get("get");
      if (get == null || !String.valueOf(get.get("parameters")).contains("name=cursor")) {
        return;
      }
      Map<String, Object> ok = (Map<String, Object>) ((Map<String, Object>) get.get("responses")).get("200");
      Object schema = ((Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) ok.get("content"))
          .get("application/json")).get("schema"));
      Map<String, Object> props = (Map<String, Object>) ((Map<String, Object>) schema).get("properties");
      if (props == null) {
        return; // a $ref schema, checked where it is defined
      }
      props.forEach((name, p) -> {
        if ("array".equals(((Map<String, Object>) p).get("type")) && !name.equals("items")) {
          wrong.add(path + " " + name);
        }
      });
    });
    assertThat(wrong).as("paged arrays not named items").isEmpty();
  }
}
