// The chat's behaviour beyond Gradio's defaults (loaded once by the page; see assistant/app.py):
// - a citation opens its passage in a panel beside the chat (the full page stays a link for sharing);
// - the cards' buttons: copy a contact, remove a chip and ask again, ask about a catalogue action, pick
//   actions for the handout;
// - after each answer, the view shows the top of the new answer and the question box has the focus.
// Everything is delegated from the document: Gradio re-renders messages, and the HTML of an answer carries
// only data-* attributes (assistant/card.py), no script of its own.
(() => {
  if (window.__reperesChat) return;
  window.__reperesChat = true;
  document.documentElement.lang = "fr";

  const $ = (selector, root = document) => root.querySelector(selector);
  const questionBox = () => $("#question textarea");
  let opener = null; // the link that opened the panel: the focus goes back to it

  function panel() {
    let aside = document.getElementById("rp-panel");
    if (aside) return aside;
    aside = document.createElement("aside");
    aside.id = "rp-panel";
    aside.hidden = true;
    aside.setAttribute("aria-label", "Passage cité");
    aside.innerHTML =
      '<header><h2>Passage cité</h2><button type="button" class="rp-btn rp-close" aria-label="Fermer le passage">✕</button></header>' +
      '<iframe title="Passage cité"></iframe>';
    document.body.appendChild(aside);
    $(".rp-close", aside).addEventListener("click", closePanel);
    return aside;
  }

  function openPanel(link) {
    const aside = panel();
    const [address, hash] = link.getAttribute("href").split("#");
    const embed = address + (address.includes("?") ? "&" : "?") + "embed=1" + (hash ? "#" + hash : "");
    $("iframe", aside).src = new URL(embed, document.baseURI).href;
    aside.hidden = false;
    document.body.classList.add("rp-panel-open");
    opener = link;
    $(".rp-close", aside).focus();
  }

  function closePanel() {
    const aside = document.getElementById("rp-panel");
    if (!aside || aside.hidden) return;
    aside.hidden = true;
    document.body.classList.remove("rp-panel-open");
    if (opener && document.contains(opener)) opener.focus();
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
  }

  // Put a question in the box and send it (Gradio listens to the input event, then to its submit button).
  function ask(question) {
    const box = questionBox();
    if (!box) return;
    box.value = question;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => {
      const send = $("#question button.submit-button") || $("#question button[aria-label]");
      if (send) send.click();
      else box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      watchAnswer();
    }, 50);
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // The question without a chip's words ("à Loos", "de 17 ans"), and the preposition before them.
  function without(question, surface) {
    const pattern = new RegExp("(?:\\s+(?:à|a|de|d'|sur|en|du|au))?\\s*" + escapeRegExp(surface), "i");
    return question.replace(pattern, "").replace(/\s+([?,.])/g, "$1").replace(/\s{2,}/g, " ").trim();
  }

  function showChatTab() {
    const tab = [...document.querySelectorAll('[role="tab"]')].find((t) => t.textContent.trim().startsWith("Poser une question"));
    if (tab && tab.getAttribute("aria-selected") !== "true") tab.click();
  }

  // The handout of an answer (or of the catalogue): the actions picked, else all the answer's actions.
  function actionId(card) {
    const link = card && card.querySelector("a.rp-fiche");
    return link ? new URL(link.getAttribute("href"), document.baseURI).searchParams.get("a") : null;
  }

  function updateHandout(box) {
    const scope = box.closest(".rp-answer, #rp-catalogue-view");
    if (!scope) return;
    const picked = [...scope.querySelectorAll(".rp-pick input:checked")].map((b) => actionId(b.closest(".rp-card")));
    const ids = [...new Set(picked.filter(Boolean))];
    const link = $(".rp-handout a", scope);
    if (!link) return;
    if (link.dataset.all === undefined) link.dataset.all = link.getAttribute("href") || "";
    const query = ids.map((id) => "a=" + encodeURIComponent(id)).join("&");
    link.setAttribute("href", ids.length ? "fiche?" + query : link.dataset.all);
    link.textContent = ids.length ? `Fiche pour le jeune (${ids.length})` : "Fiche pour le jeune";
    if (scope.id === "rp-catalogue-view") link.hidden = !ids.length;
  }

  // A card's control: an anchor "#rp-<verb>:<value>" (the chatbot keeps no data-* attribute).
  function control(target) {
    const link = target.closest('a[href^="#rp-"]');
    if (!link) return null;
    const m = link.getAttribute("href").match(/^#rp-([a-z]+):(.*)$/);
    return m ? { link, verb: m[1], value: decodeURIComponent(m[2]) } : null;
  }

  document.addEventListener("click", async (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const passage = target.closest("a.rp-cite, a.rp-source");
    if (passage && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.button === 0) {
      event.preventDefault();
      event.stopPropagation();
      openPanel(passage);
      return;
    }
    const action = control(target);
    if (!action) return;
    event.preventDefault();
    event.stopPropagation();
    if (action.verb === "copier") {
      await copyText(action.value);
      const label = action.link.textContent;
      action.link.textContent = "Copié ✓";
      setTimeout(() => (action.link.textContent = label), 1500);
    } else if (action.verb === "retirer") {
      const asked = control(action.link.closest(".rp-chips").querySelector("a.rp-question"));
      if (asked) ask(without(asked.value, action.value));
    } else if (action.verb === "demander") {
      showChatTab();
      setTimeout(() => ask(action.value), 150);
    }
  }, true);

  document.addEventListener("change", (event) => {
    const box = event.target instanceof Element ? event.target.closest(".rp-pick input") : null;
    if (box) updateHandout(box);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePanel();
    if (event.key === "Enter" && !event.shiftKey && event.target === questionBox()) watchAnswer();
  });
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target && target.closest("#question button")) watchAnswer();
  });

  // After a question is sent: once the answer is complete (the stop button gone, the bot's message
  // there), show the top of the new answer and give the focus back to the question box.
  let watching = null;
  function watchAnswer() {
    const before = document.querySelectorAll('[data-testid="bot"]').length;
    const started = performance.now();
    clearInterval(watching);
    let shown = false;
    watching = setInterval(() => {
      const bots = document.querySelectorAll('[data-testid="bot"]');
      // While Gradio streams, the question box has no send button (a stop button stands elsewhere).
      const busy = !document.querySelector("#question button.submit-button");
      const latest = bots[bots.length - 1];
      if (latest && bots.length > before && !shown) {
        latest.scrollIntoView({ block: "start" });
        shown = true;
      }
      if ((bots.length > before && !busy) || performance.now() - started > 60000) {
        clearInterval(watching);
        if (latest && bots.length > before) latest.scrollIntoView({ block: "start" });
        const box = questionBox();
        if (box) box.focus({ preventScroll: true });
      }
    }, 150);
  }
})();
