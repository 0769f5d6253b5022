/* The client's signature on the collection form (issue 13): strokes drawn on a canvas with a
   finger, stylus or mouse, kept as SVG path data ("M x y L x y ...") in a 600 x 170 box in the
   hidden field, which the server checks and shows as an SVG. Ticking "declined to sign" clears
   it; drawing unticks it. */
(function () {
  "use strict";
  document.querySelectorAll("[data-signature]").forEach(function (box) {
    var canvas = box.querySelector("[data-signature-pad]");
    var field = box.querySelector("[data-signature-value]");
    var declined = box.querySelector("input[type=checkbox]");
    var clear = box.querySelector("[data-signature-clear]");
    if (!canvas || !field) return;
    var ctx = canvas.getContext("2d");
    var W = canvas.width, H = canvas.height;
    var path = field.value || "";
    var drawing = false;
    var last = null;

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      var x = Math.round(((event.clientX - rect.left) / rect.width) * W);
      var y = Math.round(((event.clientY - rect.top) / rect.height) * H);
      return [Math.max(0, Math.min(W, x)), Math.max(0, Math.min(H, y))];
    }
    function redraw() {
      ctx.clearRect(0, 0, W, H);
      ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#14202b";
      var parts = path.match(/[ML][^ML]*/g) || [];
      ctx.beginPath();
      parts.forEach(function (part) {
        var xy = part.slice(1).trim().split(" ");
        var x = parseFloat(xy[0]), y = parseFloat(xy[1]);
        if (part[0] === "M") ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.stroke();
      canvas.classList.toggle("signed", path.indexOf("L") !== -1);
    }
    function save() { field.value = path.trim(); }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      var p = point(event);
      path += "M" + p[0] + " " + p[1] + " ";
      last = p;
      if (declined) declined.checked = false;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      // Points closer than 2 px add nothing but length (the field holds 20,000 characters).
      if (last && Math.abs(p[0] - last[0]) < 2 && Math.abs(p[1] - last[1]) < 2) return;
      last = p;
      path += "L" + p[0] + " " + p[1] + " ";
      redraw();
    });
    function end() { if (drawing) { drawing = false; save(); redraw(); } }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    if (clear) clear.addEventListener("click", function () { path = ""; save(); redraw(); });
    if (declined) declined.addEventListener("change", function () {
      if (declined.checked) { path = ""; save(); redraw(); }
    });
    redraw();
  });
})();
