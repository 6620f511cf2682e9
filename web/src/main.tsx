import { createRoot } from 'react-dom/client';

// Placeholder until the console issue lands: the server already serves this page at `/`.
function App() {
  return (
    <main style={{ fontFamily: 'sans-serif', padding: 24 }}>
      <h1>Tiota</h1>
      <p>The console is being built. The API is at /api/v1 (see /api/v1/openapi.json).</p>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
