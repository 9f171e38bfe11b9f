// Confirmation and a reason prompt before destructive review actions; nothing else.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  const ask = form.dataset.reason;
  if (ask) {
    const reason = window.prompt(ask, "");
    if (reason === null) {
      event.preventDefault();
      return;
    }
    form.elements.namedItem("reason").value = reason;
  }
});
