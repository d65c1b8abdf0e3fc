// Nothing typed is lost (a form with data-autosave="URL"):
// - a pause of a few seconds in typing saves the draft through the page's own save, with its version
//   check (a colleague's newer save is never overwritten: the page says so and stops);
// - every keystroke is also kept in this browser (localStorage) until a save succeeds, so a session
//   that expired, a refused save or a closed tab loses nothing: opening the page again restores it;
// - uploading a file first saves what was typed; leaving with unsaved changes asks first.
(() => {
  const form = document.querySelector("form[data-autosave]");
  if (!form) {
    return;
  }
  const url = form.dataset.autosave;
  const key = `tracker-draft:${location.pathname}`;
  const status = document.getElementById("autosave-status");
  const skip = new Set(["csrf_token", "version", "action"]);
  const fields = () =>
    Array.from(form.elements).filter((el) => el.name && !skip.has(el.name) && el.type !== "submit" && el.type !== "file");
  const snapshot = () => Object.fromEntries(fields().map((el) => [el.name, el.value]));
  let dirty = false;
  let stopped = false;
  let timer = null;
  let saving = null;

  const say = (text, bad = false) => {
    if (status) {
      status.textContent = text;
      status.classList.toggle("text-danger", bad);
    }
  };
  const keep = () =>
    localStorage.setItem(key, JSON.stringify({ version: form.elements.version.value, values: snapshot() }));
  const schedule = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(save, ms);
  };

  async function attempt() {
    const body = new FormData(form);
    body.set("action", "save");
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", Accept: "application/json" },
      });
    } catch {
      say("网络中断：内容已保存在本机，恢复连接后将继续自动保存。", true);
      schedule(10000);
      return false;
    }
    const json = (response.headers.get("Content-Type") || "").includes("json");
    const data = json ? await response.json() : {};
    if (response.ok && json) {
      form.elements.version.value = data.version;
      dirty = false;
      localStorage.removeItem(key);
      say(`已自动保存（${data.saved_at}）`);
      return true;
    }
    stopped = response.status !== 422;
    if (response.status === 401) {
      say("登录已过期：您填写的内容已保存在本机。重新登录后回到本页，内容会自动恢复。", true);
    } else if (json) {
      say(`自动保存未成功：${data.message}`, true);
    } else {
      say("自动保存未成功（页面已过期）：内容已保存在本机，刷新页面后会自动恢复。", true);
    }
    return false;
  }

  async function save() {
    if (!dirty || stopped) {
      return !dirty;
    }
    if (!saving) {
      saving = attempt().finally(() => {
        saving = null;
      });
    }
    return saving;
  }

  const edited = () => {
    dirty = true;
    keep();
    say("有未保存的修改");
    if (!stopped) {
      schedule(3000);
    }
  };
  form.addEventListener("input", edited);
  form.addEventListener("change", edited);
  // The form's own buttons carry the text with them; nothing is lost by leaving through them.
  form.addEventListener("submit", () => {
    dirty = false;
  });

  // A draft kept in this browser: put it back. Saved at once if it was typed on this version;
  // left for the user to check and save if the form moved on meanwhile.
  const kept = JSON.parse(localStorage.getItem(key) || "null");
  if (kept && kept.values) {
    let restored = false;
    for (const el of fields()) {
      if (el.name in kept.values && el.value !== kept.values[el.name]) {
        el.value = kept.values[el.name];
        restored = true;
      }
    }
    if (!restored) {
      localStorage.removeItem(key);
    } else if (kept.version === form.elements.version.value) {
      dirty = true;
      say("已恢复您上次未保存的内容，正在保存……");
      schedule(500);
    } else {
      dirty = true;
      stopped = true;
      say("已填入您上次未保存的内容；此后他人修改过本表，请核对后手动保存。", true);
    }
  }

  // Uploading a file reloads the page: save what was typed first.
  for (const upload of document.querySelectorAll("form[data-save-first]")) {
    upload.addEventListener("submit", async (event) => {
      if (!dirty || stopped) {
        return;
      }
      event.preventDefault();
      await save();
      dirty = false; // kept in this browser if the save failed: the reloaded page restores it
      upload.submit();
    });
  }

  window.addEventListener("beforeunload", (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
