"use strict";
// Sign-in: POST the credentials, and on success the server sets an HttpOnly
// session cookie; the app itself is only served after that.
document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const err = document.getElementById("login-error");
  err.hidden = true;
  const body = JSON.stringify({
    user: document.getElementById("user").value,
    password: document.getElementById("password").value,
  });
  try {
    const res = await fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"}, body, credentials: "same-origin"});
    if (res.ok) {
      location.href = "/";
      return;
    }
    const j = await res.json().catch(() => ({error: res.statusText}));
    err.textContent = j.error || ("HTTP " + res.status);
  } catch (e) {
    err.textContent = "Cannot reach the server: " + e;
  }
  err.hidden = false;
});
