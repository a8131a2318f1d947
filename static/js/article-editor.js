// The article form's editor (articles/admin.py, ArticleAdmin.Media): a live
// preview beside the Markdown body, rendered by the server with the same
// rendering, sanitizer and paywall split as saving (admin_editor.preview);
// an "Insert paywall break" button; "Add picture" (or drop a picture on the
// body) uploads it with its alt text, caption and credit and inserts its line.
// No inline script or style: the admin runs under a strict CSP.
(function () {
  "use strict";

  var AUTOSAVE_SECONDS = 5;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text) node.textContent = text;
    return node;
  }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function insertBlock(textarea, block) {
    var value = textarea.value;
    var at = textarea.selectionStart == null ? value.length : textarea.selectionStart;
    var before = value.slice(0, at).replace(/\s*$/, "");
    var after = value.slice(at).replace(/^\s*/, "");
    var text = (before ? before + "\n\n" : "") + block + (after ? "\n\n" + after : "\n");
    textarea.value = text;
    var caret = (before ? before.length + 2 : 0) + block.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function authorsCount(form) {
    var chosen = form.querySelector("#id_authors_to");
    if (chosen) return chosen.options.length;
    return form.querySelectorAll("select[name=authors] option:checked").length;
  }

  function hasHero(form) {
    var file = form.querySelector("#id_hero_image");
    if (file && file.files && file.files.length) return true;
    var clear = form.querySelector("#hero_image-clear_id");
    var current = form.querySelector(".field-hero_image a[href]");
    return Boolean(current) && !(clear && clear.checked);
  }

  function value(form, name) {
    var field = form.elements.namedItem(name);
    return field && "value" in field ? field.value : "";
  }

  function setup(textarea) {
    var form = textarea.form;
    var previewUrl = textarea.getAttribute("data-preview-url");
    var uploadUrl = textarea.getAttribute("data-upload-url");
    var canUpload = textarea.getAttribute("data-can-upload") === "1";

    var split = el("div", { "class": "editor-split" });
    var write = el("div", { "class": "editor-write" });
    var toolbar = el("div", { "class": "editor-toolbar", role: "toolbar", "aria-label": "Story tools" });
    var paywallButton = el("button", { type: "button", "class": "button" }, "Insert paywall break");
    toolbar.appendChild(paywallButton);
    var pictureButton = null;
    if (canUpload) {
      pictureButton = el("button", { type: "button", "class": "button", "aria-expanded": "false" }, "Add picture");
      toolbar.appendChild(pictureButton);
    }
    var length = el("span", { "class": "editor-length", "aria-live": "polite" });
    toolbar.appendChild(length);

    var preview = el("section", { "class": "editor-preview", "aria-label": "Preview", "aria-live": "polite" });
    preview.appendChild(el("p", { "class": "editor-preview__title" }, "Preview — as readers will see it"));
    // The preview is drawn in a shadow root with the site's own stylesheet (and the editor's,
    // for the tabs): the admin's styles cannot reach into it, nor the site's out of it.
    var previewHost = el("div", { "class": "editor-preview__content" });
    preview.appendChild(previewHost);
    var shadow = previewHost.attachShadow({ mode: "open" });
    [textarea.getAttribute("data-site-css"), textarea.getAttribute("data-editor-css")].forEach(function (href) {
      if (href) shadow.appendChild(el("link", { rel: "stylesheet", href: href }));
    });
    var previewBody = el("div", { "class": "site-preview" });
    shadow.appendChild(previewBody);

    textarea.parentNode.insertBefore(split, textarea);
    write.appendChild(toolbar);
    split.appendChild(write);
    split.appendChild(preview);

    // The picture panel: its inputs have no name, so they never go with the article form.
    var panel = null;
    if (canUpload) {
      panel = el("div", { "class": "editor-upload", hidden: "" });
      panel.appendChild(el("p", {}, "Upload a picture into the story. Alt text is required."));
      var fields = [
        ["file", "editor-upload-file", "Picture", { type: "file", accept: "image/*" }],
        ["alt", "editor-upload-alt", "Describe the picture (alt text, required)", { type: "text", maxlength: "250" }],
        ["caption", "editor-upload-caption", "Caption", { type: "text", maxlength: "300" }],
        ["credit", "editor-upload-credit", "Credit", { type: "text", maxlength: "200" }],
      ];
      var inputs = {};
      fields.forEach(function (f) {
        panel.appendChild(el("label", { "for": f[1] }, f[2]));
        var attrs = Object.assign({ id: f[1] }, f[3]);
        inputs[f[0]] = el("input", attrs);
        panel.appendChild(inputs[f[0]]);
      });
      var errors = el("p", { "class": "editor-upload__errors", role: "alert" });
      var actions = el("p", {});
      var upload = el("button", { type: "button", "class": "button default" }, "Upload and insert");
      var cancel = el("button", { type: "button", "class": "button" }, "Cancel");
      actions.appendChild(upload);
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(cancel);
      panel.appendChild(errors);
      panel.appendChild(actions);
      write.appendChild(panel);

      var openPanel = function (files) {
        panel.hidden = false;
        pictureButton.setAttribute("aria-expanded", "true");
        if (files && files.length) inputs.file.files = files;
        errors.textContent = "";
        (files && files.length ? inputs.alt : inputs.file).focus();
      };
      var closePanel = function () {
        panel.hidden = true;
        pictureButton.setAttribute("aria-expanded", "false");
        ["file", "alt", "caption", "credit"].forEach(function (k) { inputs[k].value = ""; });
      };
      pictureButton.addEventListener("click", function () { panel.hidden ? openPanel() : closePanel(); });
      cancel.addEventListener("click", closePanel);
      upload.addEventListener("click", function () {
        errors.textContent = "";
        if (!inputs.file.files.length) { errors.textContent = "Choose a picture."; return; }
        if (!inputs.alt.value.trim()) { errors.textContent = "Describe the picture: alt text is required."; inputs.alt.focus(); return; }
        var data = new FormData();
        data.append("image", inputs.file.files[0]);
        data.append("alt", inputs.alt.value);
        data.append("caption", inputs.caption.value);
        data.append("credit", inputs.credit.value);
        upload.disabled = true;
        fetch(uploadUrl, { method: "POST", body: data, headers: { "X-CSRFToken": csrf() }, credentials: "same-origin" })
          .then(function (response) { return response.json().then(function (json) { return [response.ok, json]; }); })
          .then(function (result) {
            if (!result[0]) {
              var messages = [];
              Object.keys(result[1].errors || {}).forEach(function (k) { messages = messages.concat(result[1].errors[k]); });
              errors.textContent = messages.join(" ") || "The picture could not be uploaded.";
              return;
            }
            closePanel();
            insertBlock(textarea, result[1].markdown);
          })
          .catch(function () { errors.textContent = "The picture could not be uploaded. Try again."; })
          .finally(function () { upload.disabled = false; });
      });
      textarea.addEventListener("dragover", function (event) {
        if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1) {
          event.preventDefault();
          textarea.classList.add("is-dragover");
        }
      });
      textarea.addEventListener("dragleave", function () { textarea.classList.remove("is-dragover"); });
      textarea.addEventListener("drop", function (event) {
        textarea.classList.remove("is-dragover");
        if (event.dataTransfer && event.dataTransfer.files.length) {
          event.preventDefault();
          openPanel(event.dataTransfer.files);
        }
      });
    }
    write.appendChild(textarea);

    paywallButton.addEventListener("click", function () {
      // One break per story: a new one replaces the old.
      var at = textarea.selectionStart;
      var old = textarea.value;
      var cleaned = old.replace(/\n*^[ \t]*\[paywall\][ \t]*$\n*/gim, "\n\n");
      if (cleaned !== old) {
        var removedBefore = old.slice(0, at).length - old.slice(0, at).replace(/\n*^[ \t]*\[paywall\][ \t]*$\n*/gim, "\n\n").length;
        textarea.value = cleaned;
        at = Math.max(0, at - removedBefore);
        textarea.setSelectionRange(at, at);
      }
      insertBlock(textarea, "[paywall]");
    });

    // Live preview: the server renders (same code as saving); the answer is already sanitized.
    var timer = null;
    var inFlight = null;
    function refresh() {
      var data = new FormData();
      ["title", "standfirst", "body", "access", "hero_alt", "category"].forEach(function (name) {
        data.append(name, value(form, name));
      });
      for (var i = 0; i < authorsCount(form); i += 1) data.append("authors", "1");
      data.append("has_hero", hasHero(form) ? "1" : "");
      if (inFlight) inFlight.abort();
      inFlight = new AbortController();
      fetch(previewUrl, { method: "POST", body: data, headers: { "X-CSRFToken": csrf() }, credentials: "same-origin", signal: inFlight.signal })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (json) {
          var selected = previewBody.querySelector("[role=tab][aria-selected=true]");
          var selectedId = selected ? selected.id : null;
          previewBody.innerHTML = json.preview;
          if (selectedId && shadow.getElementById(selectedId)) selectTab(shadow.getElementById(selectedId));
          length.textContent = json.words + " words · " + json.minutes + " min read";
          document.querySelectorAll("[data-editor-length]").forEach(function (node) { node.textContent = length.textContent; });
          var checklist = document.querySelector("[data-editor-checklist]");
          if (checklist) checklist.outerHTML = json.checklist;
          preview.setAttribute("data-state", "ready");
        })
        .catch(function (error) { if (error.name !== "AbortError") preview.setAttribute("data-state", "error"); });
    }
    function schedule() {
      preview.setAttribute("data-state", "pending");
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    }
    function selectTab(tab) {
      previewBody.querySelectorAll("[role=tab]").forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        var pane = shadow.getElementById(t.getAttribute("aria-controls"));
        if (pane) pane.hidden = !on;
      });
    }
    previewBody.addEventListener("click", function (event) {
      var tab = event.target.closest("[role=tab]");
      if (tab) selectTab(tab);
    });
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    // The byline and topics pickers (autocomplete_fields, select2) announce changes through jQuery only.
    if (window.django && window.django.jQuery) window.django.jQuery(form).on("change", "select", schedule);
    form.addEventListener("click", function (event) {
      // filter_horizontal moves options with buttons: no change event.
      if (event.target.closest(".selector-chooser, .selector-chooseall, .selector-clearall")) schedule();
    });
    refresh();
    keepDraft(form, textarea, length);
  }

  // Autosave and the unsaved-changes warning. A saved draft's headline, summary and story
  // are kept every few seconds while the writer types (admin_editor.autosave); leaving the
  // page with anything not saved asks first.
  function keepDraft(form, textarea, status) {
    var dirty = false;         // anything changed since the page was loaded or saved
    var textDirty = false;     // the autosaved fields changed since the last autosave
    var otherDirty = false;    // another field changed (only Save keeps those)
    var submitting = false;
    var autosaved = ["title", "standfirst", "body"];
    var match = window.location.pathname.match(/^(.*\/)change\/$/);
    var statusField = form.elements.namedItem("status");
    var isDraft = function () {
      // Writers see the status as text; editors as a select.
      return statusField ? statusField.value === "draft" : form.getAttribute("data-draft") !== "0";
    };
    var note = el("span", { "class": "editor-autosave", "aria-live": "polite" });
    status.parentNode.insertBefore(note, status);

    form.addEventListener("input", function (event) {
      dirty = true;
      if (event.target && autosaved.indexOf(event.target.name) !== -1) textDirty = true;
      else otherDirty = true;
    });
    form.addEventListener("change", function (event) {
      if (event.target && autosaved.indexOf(event.target.name) === -1) { dirty = true; otherDirty = true; }
    });
    form.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("beforeunload", function (event) {
      if (!dirty || submitting) return;
      event.preventDefault();
      event.returnValue = "";  // older browsers need a value to ask
    });

    if (!match) return;  // a new story: it has no draft to keep until its first Save
    var url = match[1] + "autosave/";
    setInterval(function () {
      if (!textDirty || submitting || !isDraft()) return;
      var data = new FormData();
      autosaved.forEach(function (name) { data.append(name, value(form, name)); });
      textDirty = false;
      fetch(url, { method: "POST", body: data, headers: { "X-CSRFToken": csrf() }, credentials: "same-origin" })
        .then(function (response) { return response.json().then(function (json) { return [response.ok, json]; }); })
        .then(function (result) {
          if (result[0]) {
            note.textContent = "Draft saved at " + result[1].at + ".";
            if (!otherDirty && !textDirty) dirty = false;
          } else {
            note.textContent = result[1].reason || "Not saved automatically.";
          }
        })
        .catch(function () { textDirty = true; note.textContent = "Not saved automatically: the connection failed."; });
    }, AUTOSAVE_SECONDS * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var textarea = document.querySelector("textarea.editor-body[data-preview-url]");
    if (textarea && textarea.form) setup(textarea);
  });
})();
