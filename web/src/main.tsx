import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import './styles/base.css';
import './styles/layout.css';
import './styles/widgets.css';
import './styles/forms.css';
import './styles/pages.css';
import './styles/rollout.css';
// Last: state colours override the neutral colours of bars, tiles and badges.
import './styles/states.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
