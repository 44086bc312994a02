// The book's own JavaScript, shipped by collapse_utils/book/sphinx_ext.py.
//
// Phone sidebars: pydata-sphinx-theme 0.17 binds its "open the sidebar" handler
// to the first .primary-toggle / .secondary-toggle in the page, a navbar icon that
// sphinx-book-theme hides; the visible buttons (in the article header) get no
// handler and do nothing (pydata/pydata-sphinx-theme#2451). Forward their clicks
// to the bound button, which opens the sidebar as a dialog (and, at desktop
// widths, collapses it: sphinx-book-theme binds that to the same first button).
document.addEventListener("DOMContentLoaded", () => {
  for (const side of ["primary", "secondary"]) {
    const [bound, ...others] = document.querySelectorAll(`.${side}-toggle`);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    }
  }
});
