// tablebot review: keyboard shortcuts for the label page, the cell editor for the table view.
"use strict";

function submitOnce(form) {
  if (!form || form.dataset.sent) return;
  form.dataset.sent = "1";
  form.submit();
}

function setUpQueue() {
  const labeller = document.getElementById("labeller");
  const form = document.getElementById("label-form");
  const input = document.getElementById("label-input");
  if (input && input.value) input.select();  // a refused answer: typing replaces it
  if (form) {
    form.addEventListener("submit", (e) => {
      if (form.dataset.sent) { e.preventDefault(); return; }
      // Enter alone accepts the model's guess.
      if (input.value.trim() === "" && labeller.dataset.guess !== "") input.value = labeller.dataset.guess;
      form.dataset.sent = "1";
    });
  }
  const shortcuts = { s: "skip-form", x: "nan-form", u: "undo-form" };
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
      e.preventDefault();
      submitOnce(document.getElementById("undo-form"));
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const key = e.key.toLowerCase();
    if (key in shortcuts) {
      e.preventDefault();
      submitOnce(document.getElementById(shortcuts[key]));
    } else if (e.key === "Escape" && input) {
      input.value = "";
    } else if (e.key === "Enter" && form && document.activeElement === document.body) {
      e.preventDefault();
      form.requestSubmit();  // Enter works even when the answer box lost focus
    } else if (input && document.activeElement !== input && /^[0-9]$/.test(e.key)) {
      input.focus();  // typing always goes to the answer box
    }
  });
}

function setUpTable() {
  const overlay = document.getElementById("overlay");
  const editor = document.getElementById("cell-editor");
  if (!overlay || !editor) return;
  const input = editor.querySelector("input[name=label]");
  let current = null;

  function open(cell) {
    if (current) current.classList.remove("editing");
    current = cell;
    cell.classList.add("editing");
    editor.querySelector("input[name=item]").value = cell.dataset.item;
    input.value = "";
    input.placeholder = cell.dataset.value || "0–36";
    editor.hidden = false;
    const box = cell.getBoundingClientRect();
    editor.style.left = `${window.scrollX + box.left}px`;
    editor.style.top = `${window.scrollY + box.bottom + 6}px`;
    input.focus();
  }
  function close() {
    editor.hidden = true;
    if (current) current.classList.remove("editing");
    current = null;
  }

  overlay.querySelectorAll(".ov-cell").forEach((cell) => cell.addEventListener("click", () => open(cell)));
  editor.addEventListener("submit", (e) => {
    if (editor.dataset.sent) { e.preventDefault(); return; }
    // Enter alone confirms the value shown.
    if (input.value.trim() === "" && current && current.dataset.value !== "") input.value = current.dataset.value;
    editor.dataset.sent = "1";
  });
  editor.querySelector("[data-action=nan]").addEventListener("click", () => {
    input.value = "not_a_number";
    submitOnce(editor);
  });
  editor.querySelector("[data-action=close]").addEventListener("click", close);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });

  const wanted = overlay.dataset.focus;  // from the URL: only ever a hex cell id
  const focus = /^[0-9a-f]+$/.test(wanted) && overlay.querySelector(`.ov-cell[data-item="${wanted}"]`);
  if (focus) open(focus);
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "queue") setUpQueue();
  if (document.body.dataset.page === "table") setUpTable();
});
