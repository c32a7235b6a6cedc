import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App.js';
import { selectBridge } from './bridge/select-bridge.js';
import { openRequest, startApp } from './store/actions.js';
import { requestIdFromLink } from './lib/request-link.js';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
const linked = requestIdFromLink(window.location.search);
void startApp(selectBridge()).then(() => {
  if (linked) void openRequest(linked);
});
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
