// Report formats for finished runs: pure functions from netconform's JSON run
// documents to JUnit XML, TAP, a self-contained HTML matrix and a merged JSON
// index, one file each. This header gathers them for netconform and netreport.
//
//   run_document.h  the document read as typed values, its limits and names
//   report_text.h   text every format can carry (and the terminal's)
//   junit.h         JUnit XML (pugixml)
//   tap.h           TAP 13
//   html.h          the HTML matrix (assets/: page template, CSS, JS)
//   matrix.h        cases x implementations, and the merged JSON index
#pragma once

#include "html.h"
#include "junit.h"
#include "matrix.h"
#include "report_text.h"
#include "run_document.h"
#include "tap.h"
