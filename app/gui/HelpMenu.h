#pragma once
// Help ▸ Mouse and keys, About.
class QMainWindow;

namespace nephro::gui {

void addHelpMenu(QMainWindow* window);

}  // namespace nephro::gui
