// What pages ask for with data attributes. No script is written into a page: the
// Content-Security-Policy allows only files served from this site.

// <select data-submit-on-change>: choosing an option submits its form (a button in <noscript> does without).
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) {
    field.form.requestSubmit();
  }
});

// <form data-confirm="…"> or <button data-confirm="…">: ask before submitting, saying what follows.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = (button && button.dataset.confirm) || (event.target.dataset && event.target.dataset.confirm);
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
