// Entry point: loads the design tokens and mounts the app shell with the Tauri Backend. The only place
// that decides which Backend runs.

import "./styles/theme.css";
import { mount } from "svelte";
import App from "./App.svelte";
import { backendContext, createTauriBackend } from "./lib/backend";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

mount(App, { target, context: backendContext(createTauriBackend()) });
