/* view.h: a run as one self-contained HTML page (`grok view DIR`).
 *
 * Owns the page DIR/view.html (docs/formats.md, "The view page"): one
 * file that any browser opens from disk, with no server, no network and no
 * script or style from elsewhere.  Top to bottom:
 *   1. the run's name, task and model (config.cfg), and summary.json as a
 *      table (nested members as dotted keys: final.test_loss);
 *   2. interactive curves drawn by the page's own script into inline SVG
 *      from metrics.tsv and measures.tsv (loss, accuracy, progress measures,
 *      Gini, weight norm): drag across a chart to zoom into those epochs,
 *      double-click to zoom out, hover for the values; the memorised and
 *      grokked epochs are marked, and a line marks the slider's checkpoint;
 *   3. a slider over checkpoints swapping the per-checkpoint views (the
 *      caller's images: the embedding's Fourier spectrum, the neuron
 *      clusters, attention, the logit spectrum, ...), with play/pause;
 *   4. every figure of figures/ (figures/index.tsv's order and captions;
 *      the SVG when there is one, else the PNG), as data: URIs;
 *   5. config.cfg, folded.
 * Images are data: URIs (base64), so the page is one file.  The page's
 * state for tests and links: the fragment #ckpt=K (slider position, 0-based)
 * or #epoch=E (the nearest checkpoint) sets the slider when the page loads;
 * when its script has run, <body> carries data-view-ready="1" and
 * data-ckpt="K", and any JavaScript error is written into the element
 * #js-errors (shown at the top of the page) and counted in
 * data-js-errors.
 *
 * Reads the run directory through rdir.h (no model code); writes the page
 * atomically (fileio_write_atomic).  Prints nothing. */
#ifndef GROK_VIEW_H
#define GROK_VIEW_H

#include <stddef.h>

#include "fileio.h"
#include "grok.h"

/* The per-checkpoint views of the slider, drawn by the caller. */
typedef struct {
    int n_ckpt;
    const long *epochs;          /* [n_ckpt] ascending: the slider's positions */
    int n_views;
    const char *const *names;    /* [n_views] the views' names (figure names) */
    const char *const *captions; /* [n_views] one sentence each, or NULL entries */
    /* [n_ckpt * n_views], row c: view v of checkpoint c is files[c * n_views +
     * v], a .png or .svg file, or NULL when that view was not drawn there */
    const char *const *files;
} view_frames;

typedef struct {
    size_t bytes;      /* the page's size */
    int n_figures;     /* figures of figures/ embedded */
    int n_frames;      /* per-checkpoint images embedded */
    int n_curves;      /* interactive charts */
} view_result;

/* The page's default file name in the run directory. */
#define VIEW_PAGE "view.html"

/* Writes the page of run directory dir to out (NULL: dir/view.html).
 * frames may be NULL or hold no checkpoints (the page then says the slider
 * has nothing to show).  notes (may be NULL) gets a line per figure or
 * frame left out and why.  GROK_EINVAL when dir is not a run directory
 * (rdir_open's message); GROK_EFORMAT for a malformed file of the run;
 * GROK_EIO when a frame or figure named cannot be read or the page cannot
 * be written; GROK_ENOMEM.  Nothing is left half-written. */
int view_write(const char *dir, const char *out, const view_frames *frames, sbuf *notes,
               view_result *res, grok_err *e);

#endif
