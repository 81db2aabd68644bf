#pragma once
// The workstation's look: Qt's Fusion style with a dark palette that keeps
// the images the brightest thing on screen.
class QApplication;

namespace nephro::gui {
void applyWorkstationStyle(QApplication& app);
}
