# Debian packages: `cpack -G DEB` in the build folder writes
#   nephro3d_<v>_<arch>.deb          the workstation (nephro3d, desktop entry, icon, man page)
#   nephro3d-engine_<v>_<arch>.deb   the headless engine (nephro3d-engine, resources, model manifests,
#                                    man page, systemd units for serve and worker)
#   nephro3d-models_<v>_<arch>.deb   the demo networks
# Paths are relative to the install prefix and the programs find resources/ and
# models/ beside their own bin/ folder, so an unpacked package (dpkg -x) runs
# from any root. The project's libraries are static; RPATH $ORIGIN/../lib/nephro3d
# is the place for private shared libraries, and directories of non-system
# libraries linked at build time (an official LibTorch) are kept in the RPATH.
# `cpack`/`make install` package what is built, without first building every test program.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CMAKE_INSTALL_RPATH "\$ORIGIN/../lib/nephro3d")
set(CMAKE_INSTALL_RPATH_USE_LINK_PATH ON)
foreach(t nephro3d nephro3d-engine)
  if(TARGET ${t})
    set_target_properties(${t} PROPERTIES INSTALL_RPATH "\$ORIGIN/../lib/nephro3d" INSTALL_RPATH_USE_LINK_PATH ON)
  endif()
endforeach()

# Man pages from --help, at build time (help2man).
find_program(NEPHRO3D_HELP2MAN help2man)
if(NEPHRO3D_HELP2MAN)
  set(man_dir ${PROJECT_BINARY_DIR}/man)
  set(man_pages)
  foreach(page nephro3d-engine nephro3d)
    if(page STREQUAL "nephro3d" AND NOT NEPHRO3D_BUILD_GUI)
      continue()
    endif()
    if(page STREQUAL "nephro3d")
      set(what "kidney CT workstation and command line")
    else()
      set(what "headless kidney CT segmentation, meshing and post-processing engine")
    endif()
    # help2man names the page after the program: run the engine under the page's name.
    add_custom_command(OUTPUT ${man_dir}/${page}.1.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${man_dir}/bin
      COMMAND ${CMAKE_COMMAND} -E create_symlink $<TARGET_FILE:nephro3d-engine> ${man_dir}/bin/${page}
      COMMAND ${NEPHRO3D_HELP2MAN} --no-info --no-discard-stderr --section=1 --name=${what}
              --version-string=${PROJECT_VERSION} --output=${man_dir}/${page}.1 ${man_dir}/bin/${page}
      COMMAND gzip -9nf ${man_dir}/${page}.1
      DEPENDS nephro3d-engine
      COMMENT "Man page ${page}.1 from --help"
      VERBATIM)
    list(APPEND man_pages ${man_dir}/${page}.1.gz)
  endforeach()
  add_custom_target(manpages ALL DEPENDS ${man_pages})
  install(FILES ${man_dir}/nephro3d-engine.1.gz DESTINATION share/man/man1 COMPONENT engine)
  if(NEPHRO3D_BUILD_GUI)
    install(FILES ${man_dir}/nephro3d.1.gz DESTINATION share/man/man1 COMPONENT workstation)
  endif()
else()
  message(STATUS "help2man not found: no man pages (install help2man)")
endif()

if(NEPHRO3D_BUILD_GUI)
  install(FILES ${PROJECT_SOURCE_DIR}/resources/desktop/nephro3d.desktop DESTINATION share/applications COMPONENT workstation)
  install(FILES ${PROJECT_SOURCE_DIR}/resources/desktop/nephro3d.svg DESTINATION share/icons/hicolor/scalable/apps
          COMPONENT workstation)
endif()
file(GLOB NEPHRO3D_SYSTEMD_UNITS ${PROJECT_SOURCE_DIR}/packaging/systemd/*.service)
install(FILES ${NEPHRO3D_SYSTEMD_UNITS} DESTINATION lib/systemd/system COMPONENT engine)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/slurm/nephro3d-array.sbatch DESTINATION share/nephro3d/slurm COMPONENT engine)

set(CPACK_PACKAGE_NAME nephro3d)
set(CPACK_PACKAGE_VENDOR "Nephro3D")
set(CPACK_PACKAGE_CONTACT "Nephro3D maintainers <nephro3d@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Kidney CT workstation and headless segmentation engine")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_COMPONENTS_ALL engine models)
if(NEPHRO3D_BUILD_GUI)
  list(APPEND CPACK_COMPONENTS_ALL workstation)
endif()
set(CPACK_DEBIAN_WORKSTATION_PACKAGE_NAME nephro3d)
set(CPACK_DEBIAN_ENGINE_PACKAGE_NAME nephro3d-engine)
set(CPACK_DEBIAN_MODELS_PACKAGE_NAME nephro3d-models)
set(CPACK_DEBIAN_MODELS_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_MODELS_PACKAGE_SHLIBDEPS OFF)
set(CPACK_COMPONENT_WORKSTATION_DEPENDS engine)
set(CPACK_DEBIAN_WORKSTATION_PACKAGE_RECOMMENDS nephro3d-models)
set(CPACK_DEBIAN_ENGINE_PACKAGE_SUGGESTS "nephro3d-models, slurm-client, nats-server")
set(CPACK_COMPONENT_WORKSTATION_DESCRIPTION
    "Kidney CT workstation\n Opens contrast CT studies (arterial, portal, delayed phases), runs nnU-Net models,\n shows masks as overlays and 3D meshes, refines and reviews them.")
set(CPACK_COMPONENT_ENGINE_DESCRIPTION
    "Nephro3D headless engine\n Every command line step without a display: inference, meshing, post-processing,\n batches (SLURM array shards), the HTTP service and queue worker.")
set(CPACK_COMPONENT_MODELS_DESCRIPTION
    "Nephro3D demo models\n nnU-Net v2 TorchScript networks trained on the synthetic phantom, so every\n feature runs out of the box.")
include(CPack)
