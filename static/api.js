// Renders /api/v1/openapi.json as a readable reference (our own code: no CDN, no framework).
(function () {
  "use strict";
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function resolve(doc, schema) {
    var seen = 0;
    while (schema && schema.$ref && seen++ < 10) {
      var name = schema.$ref.split("/").pop();
      schema = (doc.components && doc.components.schemas && doc.components.schemas[name]) || {};
    }
    return schema || {};
  }
  function typeName(doc, schema) {
    if (!schema) return "";
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (schema.type === "array") return typeName(doc, schema.items) + "[]";
    if (Array.isArray(schema.type)) return schema.type.join(" | ");
    if (schema.oneOf) return schema.oneOf.map(function (s) { return typeName(doc, s); }).join(" | ");
    if (schema.enum) return schema.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    return (schema.type || "object") + (schema.format ? " (" + schema.format + ")" : "");
  }
  function fields(doc, schema) {
    schema = resolve(doc, schema);
    if (schema.type === "array") schema = resolve(doc, schema.items);
    var props = schema.properties || {};
    var names = Object.keys(props);
    if (!names.length) return null;
    var required = schema.required || [];
    var table = el("table", "api-fields");
    names.forEach(function (name) {
      var row = el("tr");
      row.appendChild(el("td", null, name + (required.indexOf(name) >= 0 ? " *" : "")));
      row.appendChild(el("td", null, typeName(doc, props[name])));
      row.appendChild(el("td", null, props[name].description || resolve(doc, props[name]).description || ""));
      table.appendChild(row);
    });
    return table;
  }
  fetch("/api/v1/openapi.json").then(function (r) { return r.json(); }).then(function (doc) {
    document.querySelector("[data-api-title]").textContent = doc.info.title + " v" + doc.info.version;
    document.querySelector("[data-api-description]").textContent = doc.info.description || "";
    var root = document.querySelector("[data-api-endpoints]");
    var base = (doc.servers && doc.servers[0] && doc.servers[0].url) || "";
    Object.keys(doc.paths).forEach(function (path) {
      var item = doc.paths[path];
      ["get", "post", "patch", "delete", "put"].forEach(function (method) {
        var op = item[method];
        if (!op) return;
        var section = el("section", "api-endpoint");
        var h = el("h2");
        h.appendChild(el("span", "api-method api-" + method, method.toUpperCase()));
        h.appendChild(document.createTextNode(" " + base + path));
        section.appendChild(h);
        if (op.description || op.summary) section.appendChild(el("p", null, op.description || op.summary));
        (op.parameters || []).forEach(function (p) {
          section.appendChild(el("p", "help", p.in + " parameter " + p.name + (p.required ? " (required)" : "") +
            ": " + typeName(doc, p.schema) + (p.description ? " — " + p.description : "")));
        });
        if (op.requestBody) {
          var content = op.requestBody.content || {};
          var media = Object.keys(content)[0];
          section.appendChild(el("h3", null, "Request body (" + media + ")"));
          var t = fields(doc, content[media].schema);
          if (t) section.appendChild(t);
        }
        var responses = el("ul", "api-responses");
        Object.keys(op.responses || {}).forEach(function (status) {
          var resp = op.responses[status];
          var content = resp.content || {};
          var media = Object.keys(content)[0];
          responses.appendChild(el("li", null, status + (media ? " " + media + ": " + typeName(doc, content[media].schema) : "")));
        });
        section.appendChild(el("h3", null, "Responses"));
        section.appendChild(responses);
        root.appendChild(section);
      });
    });
  });
})();
