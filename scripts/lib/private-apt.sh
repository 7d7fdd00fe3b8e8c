# Sourced by the fetch scripts: an apt that reads a private sources directory and keeps its
# lists and downloads in a private cache, so packages of another Debian suite can be
# downloaded (never installed) without touching the machine's own apt state.
#
#   private_apt SUITE     sets $work (a temporary directory, removed on exit, with
#                         $work/pkgs for downloads) and the array apt_opts, then updates
#
# The machine's own Debian entry (its mirror and keyring) is copied with the suite changed,
# so no mirror name is written in the repository.
private_apt() {
  local suite="$1"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/archives/partial" "$work/pkgs"
  awk 'BEGIN{RS="";ORS="\n\n"} /Suites:/ && !/security/ {print; exit}' /etc/apt/sources.list.d/debian.sources \
    | sed "s/^Suites:.*/Suites: $suite/" >"$work/sources.list.d/$suite.sources"
  apt_opts=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$work/sources.list.d"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache::Archives=$work/archives"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Get::List-Cleanup=false"
    -o "APT::Sandbox::User=root"
  )
  apt-get "${apt_opts[@]}" -qq update </dev/null
}
