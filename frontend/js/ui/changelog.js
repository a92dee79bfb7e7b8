/**
 * The settings panel's "About": the version and the project's CHANGELOG.md, rendered.
 *
 * Both shells serve the file beside the page (`frontend/CHANGELOG.md` is a link to the
 * repository's, and the wheel carries its content), so it is fetched like the catalogues, the
 * first time the person opens it. It is the project's record, written in English: it keeps
 * `lang="en"` whatever the page's language.
 *
 * Decision: a renderer for the Markdown the changelog uses (headings, lists with wrapped lines,
 * paragraphs, fenced code, `code`, **bold**, [links](…) shown as their text), building DOM
 * nodes with textContent only, so nothing in the file can inject markup; a full Markdown
 * library would be the page's only dependency.
 */

import { onLanguageChange, t } from "../i18n.js";

const URL_OF_CHANGELOG = new URL("../../CHANGELOG.md", import.meta.url);

export class ChangelogSection {
  constructor(version) {
    this.version = version;
    this.line = document.getElementById("about-version");
    this.details = document.querySelector('[data-testid="changelog"]');
    this.text = document.getElementById("changelog-text");
    this.loaded = false;
    this.details.addEventListener("toggle", () => {
      if (this.details.open && !this.loaded) this.load();
    });
    this.label();
    onLanguageChange(() => this.label());
  }

  label() {
    this.line.textContent = t("settings.version", { version: this.version });
    if (this.failed) this.text.replaceChildren(errorLine(this.failed));
  }

  async load() {
    this.loaded = true;
    try {
      const response = await fetch(URL_OF_CHANGELOG, { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.text.replaceChildren(...renderMarkdown(await response.text()));
      this.failed = null;
    } catch (error) {
      this.loaded = false; // the next opening tries again
      this.failed = String(error?.message ?? error);
      this.text.replaceChildren(errorLine(this.failed));
    }
  }
}

function errorLine(detail) {
  const line = document.createElement("p");
  line.className = "about__error";
  line.lang = document.documentElement.lang;
  line.translate = true; // the page's words, inside the changelog's untranslated box
  line.append(`${t("error.changelog")}: `);
  const data = document.createElement("span");
  data.lang = "en";
  data.translate = false;
  data.textContent = detail;
  line.append(data);
  return line;
}

/** Inline Markdown (`code`, **bold**, [text](url)) as nodes. */
function inline(text) {
  const nodes = [];
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\([^)]*\)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    const [, code, bold, link] = match;
    const node = document.createElement(code !== undefined ? "code" : bold !== undefined ? "strong" : "span");
    node.textContent = code ?? bold ?? link;
    nodes.push(node);
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

/** The changelog's Markdown as a list of block elements. */
export function renderMarkdown(source) {
  const blocks = [];
  let list = null; // the <ul> being filled
  let open = null; // the element the next wrapped line continues: {node, text}
  let fence = null; // the <pre> of a fenced block

  const flush = () => {
    if (open) open.node.append(...inline(open.text));
    open = null;
  };
  for (const raw of source.split("\n")) {
    if (fence) {
      if (raw.trimStart().startsWith("```")) fence = null;
      else fence.textContent += `${raw}\n`;
      continue;
    }
    const line = raw.trimEnd();
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^(\s*)[-*]\s+(.*)$/.exec(line);
    if (line.trimStart().startsWith("```")) {
      flush();
      list = null;
      fence = document.createElement("pre");
      blocks.push(fence);
    } else if (!line.trim()) {
      flush();
      list = null;
    } else if (heading) {
      flush();
      list = null;
      // The file's "# Changelog" is what the section's summary already says; "## 0.2.0" and
      // below sit under the panel's h3.
      if (heading[1].length === 1) continue;
      const level = Math.min(6, heading[1].length + 2);
      const node = document.createElement(`h${level}`);
      node.append(...inline(heading[2]));
      blocks.push(node);
    } else if (item) {
      flush();
      if (!list) {
        list = document.createElement("ul");
        blocks.push(list);
      }
      const li = document.createElement("li");
      if (item[1].length >= 2) li.className = "about__nested";
      list.append(li);
      open = { node: li, text: item[2] };
    } else if (open) {
      open.text += ` ${line.trim()}`;
    } else {
      const p = document.createElement("p");
      blocks.push(p);
      open = { node: p, text: line.trim() };
    }
  }
  flush();
  return blocks;
}
