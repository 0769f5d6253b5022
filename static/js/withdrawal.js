/* CIWA-Ar / COWS scoring page (issue 11): keep "Total so far" true while items are tapped. The
   server computes the total that is saved; this is only a convenience. */
(function () {
  "use strict";
  document.querySelectorAll("[data-scale-form]").forEach(function (form) {
    var out = form.querySelector("[data-running-total]");
    if (!out) return;
    function update() {
      var total = 0;
      form.querySelectorAll(".scale-items input[type=radio]:checked").forEach(function (input) {
        var n = parseInt(input.value, 10);
        if (!isNaN(n)) total += n;
      });
      out.textContent = String(total);
    }
    form.addEventListener("change", update);
    update();
  });
})();
