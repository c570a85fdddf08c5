// Progressive enhancement only: every page works without this file. After a form comes back
// with errors, focus moves to the error summary so screen readers announce it and keyboard
// users start there (the GOV.UK and Designsystemet pattern).
document.addEventListener('DOMContentLoaded', function () {
  var summary = document.querySelector('[data-autofocus]');
  if (summary) { summary.focus(); }
});
