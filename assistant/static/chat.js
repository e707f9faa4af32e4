// The chat's behaviour beyond Gradio's defaults (loaded once by the page; see assistant/app.py):
// - a citation opens its passage in a panel beside the chat (the full page stays a link for sharing);
// - the cards' buttons: copy a contact, remove a chip and ask again, ask about a catalogue action, pick
//   actions for the handout;
// - after each answer, the view shows the top of the new answer and the question box has the focus;
// - Gradio's own English names and messages in French (its translation leaves some out).
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
    }, 50);
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // The question without a chip's words ("à Loos", "de 17 ans"), and the preposition before them.
  function without(question, surface) {
    const pattern = new RegExp("(?:\\s+(?:à|a|de|d'|sur|en|du|au))?\\s*" + escapeRegExp(surface), "i");
    // The space before "?" stays, as French writes it ("de 17 ans ?"), not the one before "," or ".".
    return question.replace(pattern, "").replace(/\s+([,.])/g, "$1").replace(/\s{2,}/g, " ").trim();
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
  }, true);

  // Gradio's own strings that its French translation does not cover (hard-coded in its components).
  const NAMES = new Map([
    ["Close", "Fermer"], ["Liked", "J'aime (sélectionné)"], ["Disliked", "Je n'aime pas (sélectionné)"], ["Like", "J'aime"],
    ["Dislike", "Je n'aime pas"], ["Feedback", "Raison de l'avis"], ["chatbot conversation", "Conversation"],
    ["Submit", "Envoyer"], ["Stop", "Arrêter"], ["Copy message", "Copier le message"], ["Copied message", "Message copié"],
    ["Scroll down", "Faire défiler vers le bas"], ["Loading response", "Réponse en cours"], ["Clear", "Effacer la conversation"],
    ["Retry", "Reposer la question"], ["Undo", "Annuler"], ["Copy", "Copier"], ["Copied", "Copié"],
  ]);
  const TITLES = { Info: "Information", Error: "Erreur", Warning: "Avertissement", Success: "Succès" };
  const TEXTS = new Map([
    ["Connection to the server was lost. Attempting reconnection...", "La connexion au serveur est perdue. Reconnexion…"],
    ["Connection errored out.", "La connexion a échoué."], ["processing |", "en cours |"], ["An error occurred.", "Une erreur est survenue."],
  ]);
  const PLACEHOLDER = "Posez votre question : âge, commune, situation du jeune…";

  function frenchify() {
    for (const link of document.querySelectorAll('a[href^="tel:"][target], a[href^="mailto:"][target]')) {
      link.removeAttribute("target"); // a call or an e-mail, not a new tab
      link.removeAttribute("rel");
    }
    for (const option of document.querySelectorAll(".extra-feedback-option")) {
      const on = String(option.style.fontWeight === "bold"); // the reason chosen: highlighted, and said so
      if (option.getAttribute("aria-pressed") !== on) option.setAttribute("aria-pressed", on);
    }
    for (const el of document.querySelectorAll("[aria-label],[title]")) {
      for (const name of ["aria-label", "title"]) {
        const value = el.getAttribute(name);
        if (!value) continue;
        if (NAMES.has(value)) el.setAttribute(name, NAMES.get(value));
        else if (value.startsWith("Select example ")) el.setAttribute(name, value.replace(/^Select example (\d+):/, "Exemple $1 :"));
        else if (/^(user|bot|assistant)'s message: /.test(value)) el.removeAttribute(name); // the raw markup, read aloud
        else if (value === "undo") { el.removeAttribute(name); el.setAttribute("aria-hidden", "true"); }
      }
    }
    for (const el of document.querySelectorAll(".toast-title, .toast-message-text, [data-testid=status-tracker] *")) {
      for (const node of el.childNodes) {
        if (node.nodeType !== 3) continue;
        const text = node.nodeValue.trim();
        if (TITLES[text]) node.nodeValue = node.nodeValue.replace(text, TITLES[text]);
        else for (const [en, fr] of TEXTS) if (text.startsWith(en)) { node.nodeValue = node.nodeValue.replace(en, fr); break; }
      }
    }
    // Gradio's examples are buttons in a role="list" without list items (axe: aria-required-children).
    for (const list of document.querySelectorAll('.examples[role="list"]')) {
      list.setAttribute("role", "group");
      list.setAttribute("aria-label", "Exemples de questions");
    }
    const box = questionBox();
    if (box) {
      if (box.getAttribute("aria-label") !== "Votre question") box.setAttribute("aria-label", "Votre question");
      if (!box.placeholder) box.placeholder = PLACEHOLDER; // Gradio blanks it after the first question
    }
  }
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; frenchify(); });
  }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["aria-label", "title", "style", "placeholder"] });

  // The feedback reasons open on hover only: :focus-within (CSS) opens them for the keyboard, and a mouse
  // click must not leave them open (a later 👍 would be lost).
  document.addEventListener("click", (event) => {
    const option = event.target instanceof Element ? event.target.closest(".extra-feedback-option, .extra-feedback > button") : null;
    if (option && event.detail > 0) option.blur();
  }, true);

  // The focus back in the question box when Gradio enables it again after an answer (a follow-up typed at
  // once is not lost), unless the counsellor has moved it elsewhere.
  let wasDisabled = false;
  function watchBox() {
    const box = questionBox();
    if (!box || box.__watched) return;
    box.__watched = true;
    new MutationObserver(() => {
      if (box.disabled) { wasDisabled = true; return; }
      if (!wasDisabled) return;
      wasDisabled = false;
      const active = document.activeElement;
      if (!active || active === document.body || active === box) box.focus({ preventScroll: true });
    }).observe(box, { attributes: true, attributeFilter: ["disabled"] });
  }

  // A new answer: its top at the top of the chat's box (Gradio's autoscroll, off, would show its end). The
  // row is followed by index (Gradio re-creates rows while streaming) until the box can scroll that far, or
  // the counsellor scrolls.
  let answers = 0;
  let target = null;
  function showNewAnswer() {
    const box = document.querySelector("#reponses .bubble-wrap");
    if (!box) return;
    const rows = box.querySelectorAll(".bot-row");
    if (rows.length > answers) {
      target = rows.length - 1;
      // The chat's box itself in view: in a short page (an iframe of 600 px, a phone) the browser scrolled
      // down to the question box, and the box's top, where the answer starts, was above the view.
      const top = box.getBoundingClientRect().top;
      if (top < 0) window.scrollBy(0, top - 8);
      if (!box.__scrollWatched) {
        box.__scrollWatched = true;
        for (const kind of ["wheel", "touchstart", "keydown"]) box.addEventListener(kind, () => { target = null; }, { passive: true });
      }
    }
    answers = rows.length;
    const row = target === null ? null : rows[target];
    if (!row) return;
    const wanted = box.scrollTop + row.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    const most = box.scrollHeight - box.clientHeight;
    box.scrollTop = Math.min(wanted, most);
    if (wanted <= most) target = null;
  }
  new MutationObserver(() => { watchBox(); showNewAnswer(); }).observe(document.body, { subtree: true, childList: true });
  watchBox();
  frenchify();
})();

// Printing the chat: every card and source opened ("Voir les N autres" included), closed again afterwards.
(() => {
  if (window.__reperesPrint) return;
  window.__reperesPrint = true;
  let opened = [];
  window.addEventListener("beforeprint", () => {
    opened = [...document.querySelectorAll(".rp-answer details:not([open])")];
    for (const d of opened) d.open = true;
  });
  window.addEventListener("afterprint", () => {
    for (const d of opened) d.open = false;
    opened = [];
  });
})();
