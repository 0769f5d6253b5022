/* C-SSRS screen (issue 12): show questions 3-5 once question 2 is answered yes, and the
   "within the past 3 months" follow-up once question 6 is. A block that holds a "yes" stays
   shown, with a note, when its question is changed away from yes: an answer the client gave is
   never hidden (the server refuses the contradiction). Without JavaScript the server asks the
   follow-ups after the first submit. */
(function () {
  "use strict";
  document.querySelectorAll("[data-cssrs-form]").forEach(function (form) {
    function update() {
      form.querySelectorAll("[data-follow]").forEach(function (block) {
        var gate = form.querySelector(
          'input[name="' + block.getAttribute("data-follow") + '"][value="yes"]'
        );
        var gateYes = Boolean(gate && gate.checked);
        var anyYes = Boolean(block.querySelector('input[value="yes"]:checked'));
        block.hidden = !(gateYes || anyYes);
        var orphan = block.querySelector(".orphan-note");
        if (orphan) orphan.hidden = gateYes || !anyYes;
        var note = block.querySelector(".follow-note");
        if (note) note.hidden = !gateYes;
      });
    }
    form.addEventListener("change", update);
    update();
  });
})();
