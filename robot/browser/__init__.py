"""The seam between the robot and the browser, one concern per module.

- `driver`: the small `Driver`/`Element` protocols everything else is written against (unit
  tests pass a fake, end-to-end tests a real headless Chromium), and `browser_errors`, the
  boundary where Selenium failures nothing else translated become `BrowserCrashed`.
- `manage`: finding, starting and quitting headless Chromium (`open_browser`).
- `waiting`: navigation, HTTP status checks and the one polling wait helper.
- `snapshots`: the page as it was at a failure (screenshot + source, secrets redacted).
- `runonfailure`: the policy that runs a registered action (the snapshot) once per failure.
- `redaction`: secrets kept out of saved pages and log records.
"""
