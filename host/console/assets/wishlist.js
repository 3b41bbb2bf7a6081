// The wishlist's script. The page works without it (the form's "Check
// for similar requests" button asks the server); it adds:
// - while a request's title is typed, the similar requests already on the
//   wishlist, from the console's own /wishlist/similar (the session's
//   cookie, the database's full-text search), so a tenant can vote
//   instead of posting a duplicate. It asks at most once per pause in
//   typing, and only the latest answer is shown. Nothing is written as
//   HTML: every text goes in as text.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var title = document.getElementById("title");
  var box = document.getElementById("similar");
  if (!title || !box) {
    return;
  }
  var timer = null;
  var asked = title.value.trim();
  var latest = 0;

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function show(requests) {
    while (box.firstChild) {
      box.removeChild(box.firstChild);
    }
    if (requests.length === 0) {
      return;
    }
    var lead = document.createElement("p");
    lead.textContent = "Similar requests:";
    box.appendChild(lead);
    var list = document.createElement("ul");
    list.className = "plain";
    requests.forEach(function (r) {
      var item = document.createElement("li");
      item.setAttribute("data-request", String(r.id));
      var link = document.createElement("a");
      link.href = r.href;
      link.textContent = "#" + r.id + " " + r.title;
      item.appendChild(link);
      var votes = plural(r.votes, "vote", "votes");
      item.appendChild(document.createTextNode(" (" + r.status + ", " + votes + ")"));
      if (r.voted) {
        item.appendChild(document.createTextNode(" — you vote for it"));
      } else if (r.votable) {
        item.appendChild(document.createTextNode(" — "));
        var vote = document.createElement("a");
        vote.className = "vote-instead";
        vote.href = r.href + "#vote";
        vote.textContent = "vote instead?";
        item.appendChild(vote);
      }
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function lookUp() {
    var q = title.value.trim();
    if (q === asked) {
      return;
    }
    asked = q;
    var mine = ++latest;
    if (q.length < 3) {
      show([]);
      return;
    }
    fetch("/wishlist/similar?q=" + encodeURIComponent(q), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (answer) {
        return answer.ok ? answer.json() : { requests: [] };
      })
      .then(function (data) {
        if (mine === latest) {
          show(data.requests || []);
        }
      })
      .catch(function () {
        // Offline or signed out: the form still posts.
      });
  }

  title.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 300);
  });
});
