"use strict";
// The popup of previewd's canary extension. PREVIEWD (config.js) names the domain and header.
// One declarativeNetRequest dynamic rule adds "<header>: <PR number>" to every request to the
// domain; setting a number replaces it, clearing removes it. Dynamic rules outlive the popup
// and browser restarts, so the rule itself is the state (nothing else is stored).

const RULE_ID = 1;
const NUMBER = new RegExp(`^[0-9]{1,${PREVIEWD.maxDigits}}$`);
const RESOURCE_TYPES = [
  "main_frame", "sub_frame", "stylesheet", "script", "image", "font", "object",
  "xmlhttprequest", "ping", "media", "websocket", "other",
];

function canaryRule(number) {
  return {
    id: RULE_ID,
    priority: 1,
    action: {
      type: "modifyHeaders",
      requestHeaders: [{ header: PREVIEWD.header, operation: "set", value: number }],
    },
    condition: { requestDomains: [PREVIEWD.domain], resourceTypes: RESOURCE_TYPES },
  };
}

/** Send `number` (1 to maxDigits ASCII digits) with every request to the domain. */
async function setPullRequest(number) {
  const text = String(number).trim();
  if (!NUMBER.test(text)) {
    throw new Error(`a PR number is 1 to ${PREVIEWD.maxDigits} digits, not "${text}"`);
  }
  await chrome.declarativeNetRequest.updateDynamicRules({
    removeRuleIds: [RULE_ID], addRules: [canaryRule(text)],
  });
  return text;
}

/** Stop sending the header. */
async function clearPullRequest() {
  await chrome.declarativeNetRequest.updateDynamicRules({ removeRuleIds: [RULE_ID] });
}

/** The PR number the rule sends, or null. */
async function currentPullRequest() {
  const rules = await chrome.declarativeNetRequest.getDynamicRules({ ruleIds: [RULE_ID] });
  return rules.length ? rules[0].action.requestHeaders[0].value : null;
}

function show(message, isError) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.className = isError ? "error" : "";
}

async function refresh() {
  const number = await currentPullRequest();
  document.getElementById("number").value = number || "";
  show(number ? `${PREVIEWD.header}: ${number} on ${PREVIEWD.domain}` : "off", false);
}

document.getElementById("domain").textContent = PREVIEWD.domain;
document.getElementById("form").addEventListener("submit", (event) => {
  event.preventDefault();
  setPullRequest(document.getElementById("number").value)
    .then(refresh)
    .catch((err) => show(err.message, true));
});
document.getElementById("clear").addEventListener("click", () => {
  clearPullRequest().then(refresh).catch((err) => show(err.message, true));
});
refresh().catch((err) => show(err.message, true));
