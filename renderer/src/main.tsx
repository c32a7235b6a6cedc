import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App.js';
import { selectBridge } from './bridge/select-bridge.js';
import { startApp } from './store/actions.js';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
void startApp(selectBridge());
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
