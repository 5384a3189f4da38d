// Check-in pages: the body map (tap a region to mark it sore), the session's duration and the upload size check.
// Every form works without this script: each region has its own select in the list.
(function () {
  "use strict";
  var map = document.querySelector("[data-bodymap]");
  if (map) {
    var sore = document.getElementById("sore-list");
    var list = document.querySelector("details.region-list");
    var home = {};
    map.hidden = false;
    if (list) { list.open = false; }
    var paint = function (name) {
      var select = document.getElementById("region-" + name);
      var row = document.getElementById("row-" + name);
      var value = parseInt(select.value, 10) || 0;
      map.querySelectorAll('[data-region="' + name + '"]').forEach(function (shape) {
        shape.style.fillOpacity = value ? String(0.25 + value * 0.07) : "";
        shape.classList.toggle("sore", value > 0);
        shape.setAttribute("aria-pressed", value > 0 ? "true" : "false");
      });
      if (value > 0 && row.parentNode !== sore) {
        home[name] = document.createComment(name);
        row.parentNode.insertBefore(home[name], row);
        sore.appendChild(row);
      } else if (value === 0 && home[name]) {
        home[name].parentNode.replaceChild(row, home[name]);
        delete home[name];
      }
    };
    var toggle = function (name) {
      var select = document.getElementById("region-" + name);
      select.value = (parseInt(select.value, 10) || 0) > 0 ? "0" : "5";
      paint(name);
    };
    map.querySelectorAll("[data-region]").forEach(function (shape) {
      var name = shape.getAttribute("data-region");
      shape.addEventListener("click", function () { toggle(name); });
      shape.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggle(name); }
      });
    });
    document.querySelectorAll("[data-region-select]").forEach(function (select) {
      select.addEventListener("change", function () { paint(select.getAttribute("data-region-select")); });
      paint(select.getAttribute("data-region-select"));
    });
  }
  var duration = document.getElementById("duration_min");
  if (duration) {
    document.querySelectorAll('input[name="session"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        var minutes = radio.getAttribute("data-minutes");
        if (minutes) { duration.value = minutes; }
      });
    });
  }
  var upload = document.querySelector("form[data-max-bytes]");
  if (upload) {
    upload.addEventListener("submit", function (event) {
      var files = document.getElementById("files").files;
      var total = 0;
      for (var i = 0; i < files.length; i += 1) { total += files[i].size; }
      var limit = parseInt(upload.getAttribute("data-max-bytes"), 10);
      var message = document.getElementById("size-error");
      if (total > limit) {
        event.preventDefault();
        message.textContent = "These files are " + Math.ceil(total / 1048576) + " MB: at most " +
          Math.floor(limit / 1048576) + " MB can be sent at once.";
        message.hidden = false;
      }
    });
  }
}());
