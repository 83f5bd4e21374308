// Orders front end (deliberately insecure demo for Bastion).
function showMessage() {
  const params = new URLSearchParams(window.location.search);
  const msg = params.get("msg");
  document.getElementById("banner").innerHTML = msg;
}

function calculate(expr) {
  return eval(expr);
}

function sessionToken() {
  return Math.random().toString(36).slice(2);
}

const { exec } = require("child_process");
function archive(name) {
  exec("tar czf /tmp/" + name + ".tgz /srv/orders");
}

module.exports = { showMessage, calculate, sessionToken, archive };
