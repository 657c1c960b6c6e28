import { events } from './core/events';
import { installPrivacyBridge } from './core/privacy';

App({
  onLaunch() {
    installPrivacyBridge();
  },
  onHide() {
    // the app goes to the background: send the queued events now (never awaited)
    void events.flush();
  },
});
