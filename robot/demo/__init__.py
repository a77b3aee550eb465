"""The bundled demo target site: login, four pages of table images, known true values.

Modules: `render` (pure table drawing), `site` (the seeded catalogue), `faults`,
`app` (`create_app`), `server` (`DemoServer`), `cli` (`robot demo-site`).
Nothing is imported here, so `robot.demo.render` does not pull in Flask.
"""
