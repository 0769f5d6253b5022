/* The consent form's signature pad (issue 16). A finger, stylus or mouse draws on a canvas;
   each stroke becomes "M x y L x y L x y" in whole pixels of a 600 x 200 box, kept in the
   hidden field [data-signature-value]. The server parses that path data against the same
   grammar and builds the SVG itself (clients/consents.py). "Clear" empties both.

   Markup: a [data-signature-pad] element holding a <canvas data-signature-canvas>, the hidden
   input, a <button data-signature-clear> and an optional [data-signature-status] live region. */
(function () {
  "use strict";
  var WIDTH = 600;
  var HEIGHT = 200;
  var MAX_LENGTH = 20000;

  function setUp(pad) {
    var canvas = pad.querySelector("[data-signature-canvas]");
    var field = pad.querySelector("[data-signature-value]");
    var clearButton = pad.querySelector("[data-signature-clear]");
    var status = pad.querySelector("[data-signature-status]");
    if (!canvas || !field || !canvas.getContext) return;
    canvas.width = WIDTH;
    canvas.height = HEIGHT;
    var context = canvas.getContext("2d");
    var strokes = parse(field.value);
    var current = null;
    var pointerId = null;

    function parse(text) {
      var result = [];
      var tokens = (text || "").trim().split(/\s+/);
      for (var i = 0; i + 1 < tokens.length; i += 2) {
        var kind = tokens[i].charAt(0);
        var x = parseInt(tokens[i].slice(1), 10);
        var y = parseInt(tokens[i + 1], 10);
        if (isNaN(x) || isNaN(y)) return [];
        if (kind === "M") result.push([[x, y]]);
        else if (kind === "L" && result.length) result[result.length - 1].push([x, y]);
        else return [];
      }
      return result;
    }

    function serialise() {
      var parts = [];
      strokes.forEach(function (stroke) {
        if (stroke.length < 2) return; // a tap is not a line
        stroke.forEach(function (p, n) {
          parts.push((n === 0 ? "M" : "L") + p[0] + " " + p[1]);
        });
      });
      return parts.join(" ");
    }

    function draw() {
      context.clearRect(0, 0, WIDTH, HEIGHT);
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#14202b";
      strokes.forEach(function (stroke) {
        context.beginPath();
        stroke.forEach(function (p, n) {
          if (n === 0) context.moveTo(p[0], p[1]);
          else context.lineTo(p[0], p[1]);
        });
        context.stroke();
      });
    }

    function store() {
      var value = serialise();
      if (value.length > MAX_LENGTH) {
        // Too long to keep: drop the last stroke rather than send what the server refuses.
        strokes.pop();
        value = serialise();
        say("That stroke made the signature too long; it was not kept.");
      }
      field.value = value;
      canvas.classList.toggle("signed", value.indexOf("L") !== -1);
      if (value) say("Signature captured.");
    }

    function say(text) {
      if (status) status.textContent = text;
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      var x = Math.round(((event.clientX - box.left) / box.width) * WIDTH);
      var y = Math.round(((event.clientY - box.top) / box.height) * HEIGHT);
      return [Math.max(0, Math.min(WIDTH, x)), Math.max(0, Math.min(HEIGHT, y))];
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (pointerId !== null) return; // one finger at a time; a resting palm is ignored
      event.preventDefault();
      pointerId = event.pointerId;
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      current = [point(event)];
      strokes.push(current);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (event.pointerId !== pointerId || !current) return;
      event.preventDefault();
      var p = point(event);
      var last = current[current.length - 1];
      // Points closer than 2 px add length, not shape.
      if (Math.abs(p[0] - last[0]) < 2 && Math.abs(p[1] - last[1]) < 2) return;
      current.push(p);
      draw();
    });
    function end(event) {
      if (event.pointerId !== pointerId) return;
      pointerId = null;
      current = null;
      draw();
      store();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    // No page scroll or zoom while signing on a tablet.
    canvas.addEventListener("touchstart", function (event) { event.preventDefault(); }, { passive: false });

    if (clearButton) {
      clearButton.addEventListener("click", function () {
        strokes = [];
        current = null;
        pointerId = null;
        draw();
        store();
        say("Signature cleared.");
      });
    }
    draw();
    canvas.classList.toggle("signed", (field.value || "").indexOf("L") !== -1);
  }

  document.querySelectorAll("[data-signature-pad]").forEach(setUp);
})();
