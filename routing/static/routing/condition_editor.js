// Rule condition editor: show the operators that fit the lead fact and the value input that fits the operator.
// Without this script every input shows and the server still reads the one the operator needs.
(function () {
  "use strict";

  function setUp(row) {
    var fact = row.querySelector("select.condition-fact");
    var op = row.querySelector("select.condition-op");
    // The empty template row is cloned for "add another": set up the clones, never the template.
    if (!fact || !op || row.dataset.conditionEditor || row.classList.contains("empty-form")) return;
    row.dataset.conditionEditor = "1";
    var opsFor = JSON.parse(fact.dataset.ops || "{}");
    var kinds = JSON.parse(op.dataset.kinds || "{}");
    var key = row.querySelector("input.condition-extra-key");

    function refresh() {
      var allowed = opsFor[fact.value];
      Array.prototype.forEach.call(op.options, function (option) {
        var fits = !option.value || !allowed || allowed.indexOf(option.value) >= 0;
        option.hidden = !fits;
        option.disabled = !fits;
      });
      if (op.value && allowed && allowed.indexOf(op.value) < 0) op.value = "";
      if (key) key.style.display = fact.value === "extra" ? "" : "none";
      var kind = kinds[op.value] || "";
      row.querySelectorAll("[data-kind]").forEach(function (input) {
        input.style.display = input.dataset.kind === kind ? "" : "none";
      });
    }

    fact.addEventListener("change", refresh);
    op.addEventListener("change", refresh);
    refresh();
  }

  function setUpAll(root) {
    (root || document).querySelectorAll("tr.form-row, .inline-related").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", function () { setUpAll(document); });
  document.addEventListener("formset:added", function (event) { setUp(event.target); });
})();
