// Nothing typed is lost (a form with data-autosave="URL" data-user="ID"):
// - a pause of a few seconds in typing saves the draft through the page's own save, with its version
//   check (a colleague's newer save is never overwritten: the page says so and stops);
// - what the user changed is also kept in this browser (localStorage, per user and page, for two
//   weeks) until a save succeeds, so a session that expired, a refused save or a closed tab loses
//   nothing: opening the page again puts back only the fields the user had changed, and only if
//   nobody saved the form since; otherwise they are listed beside the form to copy from;
// - uploading a file first saves what was typed; leaving with unsaved changes asks first.
(() => {
  const form = document.querySelector("form[data-autosave]");
  if (!form) {
    return;
  }
  const url = form.dataset.autosave;
  const key = `tracker-draft:${form.dataset.user}:${location.pathname}`;
  const keepDays = 14;
  const status = document.getElementById("autosave-status");
  const skip = new Set(["csrf_token", "version", "action"]);
  const fields = () =>
    Array.from(form.elements).filter((el) => el.name && !skip.has(el.name) && el.type !== "submit" && el.type !== "file");
  const snapshot = () => Object.fromEntries(fields().map((el) => [el.name, el.value]));
  const same = (a, b) => (a || "").trim() === (b || "").trim();
  // What the server sent: the user's changes are measured against it.
  const base = snapshot();
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
  const changes = () => {
    const now = snapshot();
    return Object.fromEntries(Object.entries(now).filter(([name, value]) => !same(value, base[name])));
  };
  const keep = () =>
    localStorage.setItem(
      key,
      JSON.stringify({ version: form.elements.version.value, changed: changes(), at: Date.now() }),
    );
  const forget = () => localStorage.removeItem(key);
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
      Object.assign(base, snapshot());
      dirty = false;
      forget();
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
    dirty = Object.keys(changes()).length > 0;
    if (!dirty) {
      forget();
      return;
    }
    keep();
    say("有未保存的修改");
    if (!stopped) {
      schedule(3000);
    }
  };
  form.addEventListener("input", edited);
  form.addEventListener("change", edited);

  // The form's own buttons carry the text with them. The confirmation (tracker.js) runs first, in the
  // capture phase: a cancelled submit changes nothing here. A save still on its way is waited for,
  // so the submit carries the version it produced.
  form.addEventListener("submit", (event) => {
    if (event.defaultPrevented) {
      return;
    }
    if (saving) {
      event.preventDefault();
      const submitter = event.submitter;
      saving.then(() => {
        if (submitter && submitter.name) {
          const carried = document.createElement("input");
          carried.type = "hidden";
          carried.name = submitter.name;
          carried.value = submitter.value;
          form.append(carried);
        }
        dirty = false;
        HTMLFormElement.prototype.submit.call(form);
      });
      return;
    }
    dirty = false;
  });

  // A draft kept in this browser by this user.
  const kept = JSON.parse(localStorage.getItem(key) || "null");
  const fresh = kept && kept.changed && Date.now() - (kept.at || 0) < keepDays * 86400000;
  const pending = fresh
    ? Object.entries(kept.changed).filter(([name, value]) => name in base && !same(value, base[name]))
    : [];
  if (!pending.length) {
    forget();
  } else if (kept.version === form.elements.version.value) {
    // Nobody saved since: put back what the user changed, and save it.
    for (const [name, value] of pending) {
      form.elements[name].value = value;
    }
    dirty = true;
    say("已恢复您上次未保存的内容，正在保存……");
    schedule(500);
  } else {
    // Someone saved since: change nothing, list the user's own text to copy from.
    stopped = true;
    say("您上次有未保存的内容，但此后他人修改过本表。您的内容列在下方，请核对后复制到表中再保存。", true);
    const list = document.createElement("details");
    list.open = true;
    list.id = "kept-draft";
    list.className = "card card-body mt-2 small";
    const summary = document.createElement("summary");
    summary.textContent = "您上次未保存的内容";
    list.append(summary);
    for (const [name, value] of pending) {
      const item = document.createElement("div");
      const label = document.createElement("strong");
      label.textContent = `${form.elements[name].getAttribute("aria-label") || name}：`;
      item.append(label, document.createTextNode(value));
      list.append(item);
    }
    const done = document.createElement("button");
    done.type = "button";
    done.className = "btn btn-sm btn-outline-secondary mt-2";
    done.textContent = "已处理，删除本机保存的内容";
    done.addEventListener("click", () => {
      forget();
      list.remove();
      stopped = false;
      say("");
    });
    list.append(done);
    (status ? status.parentElement : form).after(list);
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
