/* Group attendance (issue 12 item 5): "Rest present" marks every client not yet marked as
   present (one tap for the whole roster, then the exceptions stay as tapped), a count of who is
   still to document, a tapped participation pill tapped again is cleared, and a status changed
   away from partial or excused empties the fields it hid. The server judges what is saved. */
(function () {
  "use strict";
  var form = document.querySelector("[data-attendance-form]");
  if (!form) return;
  var rows = Array.prototype.slice.call(form.querySelectorAll("[data-att-row]:not([data-locked])"));
  var count = form.querySelector("[data-att-count]");
  var rest = form.querySelector("[data-rest-present]");

  function statusOf(row) {
    var checked = row.querySelector(".att-status input:checked");
    return checked ? checked.value : "";
  }
  function update() {
    var left = rows.filter(function (row) { return !statusOf(row); }).length;
    if (count) count.textContent = left ? left + " to document" : "Everyone marked";
    if (rest) rest.hidden = left === 0;
  }
  function tidy(row) {
    var status = statusOf(row);
    if (status !== "partial") {
      var minutes = row.querySelector(".att-minutes input");
      if (minutes) minutes.value = "";
    }
    if (status !== "excused") {
      var why = row.querySelector(".att-why input");
      if (why) why.value = "";
    }
    if (status !== "present" && status !== "partial") {
      row.querySelectorAll(".att-part input:checked").forEach(function (input) { input.checked = false; });
    }
  }
  form.addEventListener("change", function (event) {
    var row = event.target.closest("[data-att-row]");
    if (row && event.target.closest(".att-status")) tidy(row);
    update();
  });
  // A participation pill tapped again is taken back (a radio cannot be unticked otherwise).
  form.addEventListener("click", function (event) {
    var input = event.target.closest(".att-part label") && event.target.closest(".att-part label").querySelector("input");
    if (!input || event.target !== input) return;
    if (input.dataset.wasChecked === "1") { input.checked = false; input.dataset.wasChecked = ""; }
    else {
      form.querySelectorAll('input[name="' + input.name + '"]').forEach(function (other) { other.dataset.wasChecked = ""; });
      input.dataset.wasChecked = "1";
    }
  });
  form.querySelectorAll(".att-part input:checked").forEach(function (input) { input.dataset.wasChecked = "1"; });
  if (rest) {
    rest.addEventListener("click", function () {
      rows.forEach(function (row) {
        if (statusOf(row)) return;
        var present = row.querySelector('.att-status input[value="present"]');
        if (present && !present.disabled) present.checked = true;
      });
      update();
    });
  }
  // One post per tap: a second tap while the first is on its way sends nothing more.
  form.addEventListener("submit", function () {
    var button = form.querySelector('button[type="submit"]');
    if (button) setTimeout(function () { button.disabled = true; }, 0);
  });
  update();
})();
