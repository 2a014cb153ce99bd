// screenshot_columns PNG N: checks that a screenshot of netreport's index.html
// shows a matrix of exactly N implementation columns.
//
// It reads the page the way a person would, by colour, not by the HTML: each
// implementation's column header carries a solid marker bar (--marker in
// report_formats.cc), and every case cell below is filled with one of the four
// verdict colours. Two independent counts must both be N and line up: the
// marker bars across the header row, and the vertical bands of verdict-coloured
// cells below it. A column the HTML lost, an empty column or a collapsed
// layout changes one count or the other.
//
// Exit status: 0 when both counts are N, 1 when they are not (the test of a
// missing column expects exactly this), 2 when the image cannot be read or
// shows no matrix at all.
#include <png.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Rgb {
  int r, g, b;
};

// Must match tools/report/assets/report.css.
constexpr Rgb kMarker{0x4b, 0x29, 0x91};
constexpr Rgb kVerdicts[] = {
    {0xb9, 0xe4, 0xb0},  // OK
    {0xff, 0xd5, 0x7e},  // NON-STRICT
    {0xf5, 0xa3, 0xa0},  // FAILED
    {0xcd, 0xd3, 0xdc},  // SKIPPED
};

// A little slack for colour management; the fills are flat, so exact pixels
// are the rule and anti-aliased text around them never matches.
constexpr int kTolerance = 3;
// A cell fill is at least this tall; text strokes and the summary's 6 px
// proportion bar are not, so they do not count as a cell.
constexpr int kMinCellRun = 10;

struct Image {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> rgba;
  Rgb At(int x, int y) const {
    const unsigned char* p = &rgba[(static_cast<size_t>(y) * width + x) * 4];
    return {p[0], p[1], p[2]};
  }
};

bool Near(Rgb a, Rgb b) {
  return std::abs(a.r - b.r) <= kTolerance && std::abs(a.g - b.g) <= kTolerance &&
         std::abs(a.b - b.b) <= kTolerance;
}

int VerdictClass(Rgb c) {
  for (int i = 0; i < 4; ++i) {
    if (Near(c, kVerdicts[i])) return i;
  }
  return -1;
}

bool Load(const char* path, Image* img) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&png, path) == 0) {
    std::fprintf(stderr, "screenshot_columns: %s: %s\n", path, png.message);
    return false;
  }
  png.format = PNG_FORMAT_RGBA;
  img->width = static_cast<int>(png.width);
  img->height = static_cast<int>(png.height);
  img->rgba.resize(PNG_IMAGE_SIZE(png));
  if (png_image_finish_read(&png, nullptr, img->rgba.data(), 0, nullptr) == 0) {
    std::fprintf(stderr, "screenshot_columns: %s: %s\n", path, png.message);
    png_image_free(&png);
    return false;
  }
  return true;
}

struct Band {
  int x0, x1;  // inclusive
};

// Runs of consecutive x where hit[x], at least min_width wide.
std::vector<Band> Bands(const std::vector<bool>& hit, int min_width) {
  std::vector<Band> out;
  const int n = static_cast<int>(hit.size());
  for (int x = 0; x < n;) {
    if (!hit[x]) {
      ++x;
      continue;
    }
    int end = x;
    while (end + 1 < n && hit[end + 1]) ++end;
    if (end - x + 1 >= min_width) out.push_back({x, end});
    x = end + 1;
  }
  return out;
}

std::string Describe(const std::vector<Band>& bands) {
  std::string out;
  for (const Band& b : bands) {
    out += (out.empty() ? "" : " ") + std::to_string(b.x0) + "-" + std::to_string(b.x1);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: screenshot_columns PNG EXPECTED_COLUMNS\n");
    return 2;
  }
  const int expected = std::atoi(argv[2]);
  Image img;
  if (!Load(argv[1], &img)) return 2;

  // The header row: the marker bars, counted where they are. Their lowest
  // pixel row bounds the cell search, which keeps the legend's colour swatches
  // (above the table) out of it.
  std::vector<bool> marker_col(img.width, false);
  int marker_bottom = -1;
  for (int x = 0; x < img.width; ++x) {
    int run = 0;
    for (int y = 0; y < img.height; ++y) {
      run = Near(img.At(x, y), kMarker) ? run + 1 : 0;
      if (run >= 4) {  // the bar is 8 px tall; a stray pixel is not a bar
        marker_col[x] = true;
        if (y > marker_bottom) marker_bottom = y;
      }
    }
  }
  const std::vector<Band> markers = Bands(marker_col, 20);
  if (markers.empty()) {
    std::fprintf(stderr, "screenshot_columns: no column header marker in %s: not the matrix?\n",
                 argv[1]);
    return 2;
  }

  // The cells: per x, how many pixels below the header belong to a vertical run
  // of one verdict colour at least a cell tall.
  std::vector<bool> cell_col(img.width, false);
  int cell_pixels = 0;
  for (int x = 0; x < img.width; ++x) {
    int count = 0;
    int run = 0;
    int cls = -1;
    for (int y = marker_bottom + 1; y <= img.height; ++y) {
      const int c = y < img.height ? VerdictClass(img.At(x, y)) : -1;
      if (c >= 0 && c == cls) {
        ++run;
        continue;
      }
      if (cls >= 0 && run >= kMinCellRun) count += run;
      cls = c;
      run = c >= 0 ? 1 : 0;
    }
    cell_col[x] = count >= 2 * kMinCellRun;  // at least two cells' worth in this column
    cell_pixels += count;
  }
  const std::vector<Band> cells = Bands(cell_col, 20);
  if (cells.empty()) {
    std::fprintf(stderr, "screenshot_columns: no verdict-coloured cell below the header in %s\n",
                 argv[1]);
    return 2;
  }

  std::printf("image %dx%d, header markers below y=%d\n", img.width, img.height, marker_bottom);
  std::printf("header marker columns: %zu at x = %s\n", markers.size(), Describe(markers).c_str());
  std::printf("verdict cell columns:  %zu at x = %s (%d cell pixels)\n", cells.size(),
              Describe(cells).c_str(), cell_pixels);

  bool ok = true;
  if (static_cast<int>(markers.size()) != expected) {
    std::printf("FAIL: %zu implementation headers, expected %d\n", markers.size(), expected);
    ok = false;
  }
  if (static_cast<int>(cells.size()) != expected) {
    std::printf("FAIL: %zu columns of verdict cells, expected %d\n", cells.size(), expected);
    ok = false;
  }
  if (ok) {
    // The i-th header sits over the i-th column of cells.
    for (size_t i = 0; i < cells.size(); ++i) {
      const bool overlap = cells[i].x0 <= markers[i].x1 && markers[i].x0 <= cells[i].x1;
      if (!overlap) {
        std::printf("FAIL: column %zu's cells (x %d-%d) are not under its header (x %d-%d)\n",
                    i + 1, cells[i].x0, cells[i].x1, markers[i].x0, markers[i].x1);
        ok = false;
      }
    }
  }
  if (ok) std::printf("OK: %d implementation columns\n", expected);
  return ok ? 0 : 1;
}
