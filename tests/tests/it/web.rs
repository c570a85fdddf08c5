//! The web application in a real browser (headless Chromium over WebDriver): every role signs
//! in and does its tasks, in bokmål and English, with JavaScript on and off, and axe-core finds
//! no WCAG 2.1 A or AA violation on any page.
