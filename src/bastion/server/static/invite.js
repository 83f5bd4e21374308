// Invite page: the code arrives in the link's fragment (never sent to the server, so in no log);
// copy it into the form and drop it from the address bar and the history.
(function () {
  "use strict";
  var field = document.getElementById("invite-code");
  var code = window.location.hash.replace(/^#/, "");
  if (field && code && !field.value) {
    field.value = decodeURIComponent(code);
    window.history.replaceState(null, "", window.location.pathname);
  }
})();
