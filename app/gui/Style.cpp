#include "gui/Style.h"

#include <QApplication>
#include <QPalette>
#include <QStyleFactory>

namespace nephro::gui {

void applyWorkstationStyle(QApplication& app) {
  app.setStyle(QStyleFactory::create("Fusion"));
  QPalette p;
  const QColor window(44, 47, 52), base(32, 34, 38), text(220, 222, 226), mid(70, 74, 80);
  const QColor accent(64, 138, 214);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, QColor(38, 41, 45));
  p.setColor(QPalette::ToolTipBase, QColor(250, 250, 235));
  p.setColor(QPalette::ToolTipText, QColor(20, 20, 20));
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, QColor(54, 58, 64));
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, Qt::white);
  p.setColor(QPalette::Highlight, accent);
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Link, accent.lighter(130));
  p.setColor(QPalette::Mid, mid);
  p.setColor(QPalette::Dark, QColor(26, 28, 31));
  p.setColor(QPalette::Light, QColor(80, 84, 92));
  p.setColor(QPalette::PlaceholderText, QColor(130, 134, 140));
  for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
    p.setColor(QPalette::Disabled, role, QColor(120, 123, 128));
  app.setPalette(p);
  app.setStyleSheet(
      "QDockWidget::title { background: #363a40; padding: 4px 6px; }"
      "QDockWidget { font-weight: 500; }"
      "QToolBar { border: none; spacing: 4px; padding: 2px; }"
      "QStatusBar { background: #2a2d31; }"
      "QStatusBar QLabel { padding: 0 6px; }"
      "QTabBar::tab { padding: 5px 12px; }"
      "QGroupBox { border: 1px solid #4a4e55; border-radius: 4px; margin-top: 10px; padding-top: "
      "6px; }"
      "QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; }"
      "QFrame#viewFrame { border: 1px solid #1c1e21; background: #0c0c0e; }");
}

}  // namespace nephro::gui
