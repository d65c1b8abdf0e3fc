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
// In the capture phase, so that a form's own listeners see a cancelled submit as cancelled.
document.addEventListener(
  "submit",
  (event) => {
    const button = event.submitter;
    const message = (button && button.dataset.confirm) || (event.target.dataset && event.target.dataset.confirm);
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  },
  true,
);

// Signing out forgets the drafts this browser kept (autosave.js): the next person here must not get them.
document.addEventListener("submit", (event) => {
  if (!event.defaultPrevented && event.target.matches("form[action$='/logout'], form[action$='/sign-out-everywhere']")) {
    for (const name of Object.keys(localStorage)) {
      if (name.startsWith("tracker-draft:")) {
        localStorage.removeItem(name);
      }
    }
  }
});

// A page shown again after a refused save: the first field at fault takes the focus, so a keyboard
// (or a screen reader) lands where the work is and hears what is wrong (the field names its message).
// A refusal that names no field (a message at the top) takes the focus itself, so it is read out.
// A page that gave the focus to a message itself (autofocus) keeps it. This runs once the page has
// loaded, after the browser has scrolled to an address's #fragment (which takes the focus away).
// Nor does it take the focus from someone who has already moved it.
window.addEventListener("load", () => {
  if (document.querySelector("[autofocus]")) return;
  const target = document.querySelector("main .is-invalid") || document.querySelector("main .alert-danger[role=alert]");
  if (target) {
    setTimeout(() => {
      if (!document.activeElement || document.activeElement === document.body) target.focus();
    });
  }
});
