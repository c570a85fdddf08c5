// Reads the one-time token from the URL fragment (browsers never send a fragment to a server),
// removes it from the address bar and history, and posts it with the new password.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  history.replaceState(null, "", location.pathname);
  const form = document.getElementById("setup");
  const msg = document.getElementById("msg");
  const show = (el, text) => { el.textContent = text; el.hidden = !text; };
  const fieldError = (id, text) => {
    show(document.getElementById(id + "-error"), text);
    document.getElementById(id).setAttribute("aria-invalid", text ? "true" : "false");
  };
  if (!token) {
    show(msg, "Lenken mangler engangskoden. Be administratoren din sende en ny. / The link lacks its one-time code; ask your administrator for a new one.");
    form.hidden = true;
    return;
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const p1 = document.getElementById("p1").value, p2 = document.getElementById("p2").value;
    fieldError("p1", ""); fieldError("p2", ""); show(msg, "");
    if (p1 !== p2) { fieldError("p2", "Passordene er ikke like. / The passwords differ."); return; }
    let r;
    try {
      r = await fetch("/api/v1/auth/password-setup", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, new_password: p1 })
      });
    } catch (_) {
      show(msg, "Tjenesten svarte ikke. Prøv igjen. / The service did not answer; try again.");
      return;
    }
    if (r.status === 204) { form.hidden = true; document.getElementById("done").hidden = false; return; }
    const p = await r.json().catch(() => ({}));
    const field = (p.errors || []).find((x) => x.field === "new_password");
    if (field) { fieldError("p1", field.message); document.getElementById("p1").focus(); return; }
    show(msg, (p.detail || p.title || ("HTTP " + r.status)));
  });
});
