// The spleis console's one script. Pages work without it; it adds:
// - the one-click sign-in link: /sign-in#token=… fills the form and sends
//   it. A fragment never reaches a server, so the token stays out of logs;
//   it is removed from the address bar before the form is sent.
// - the Print button of invoices and statements.
"use strict";
function signInFromFragment() {
  var form = document.getElementById("sign-in");
  if (form && location.hash.indexOf("#token=") === 0) {
    var token = decodeURIComponent(location.hash.slice("#token=".length));
    history.replaceState(null, "", location.pathname);
    document.getElementById("token").value = token;
    form.submit();
  }
}
// A link followed while the sign-in page is open only changes the fragment.
window.addEventListener("hashchange", signInFromFragment);
document.addEventListener("DOMContentLoaded", function () {
  signInFromFragment();
  var print = document.getElementById("print");
  if (print) {
    print.addEventListener("click", function () { window.print(); });
  }
});
