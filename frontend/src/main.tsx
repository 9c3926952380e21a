/** Entry point: styles, the link interceptor, and the app mounted on #app. */
import { render } from 'preact';
import './styles.css';
import { App } from './app.tsx';
import { interceptLinks } from './router.ts';

interceptLinks();
render(<App />, document.getElementById('app')!);
