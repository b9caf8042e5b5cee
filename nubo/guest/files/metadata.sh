# nubo-guest: where the instance's metadata comes from (sourced by rcS).
# A config drive (a filesystem labelled config-2) wins when present; otherwise
# the metadata service. Both use the OpenStack layout:
#   openstack/<version>/{meta_data.json,user_data}, version "latest" or a dated one.

MD_DIR=/run/nubo-guest
MD_SOURCE=
MD_VERSION=

say() {
    echo "nubo-guest: $*" > /dev/console
}

uptime_s() {
    cut -d' ' -f1 /proc/uptime
}

# mounts the config drive on /mnt/config; fails when there is none
mount_config_drive() {
    dev=$(findfs LABEL=config-2 2>/dev/null) || dev=$(findfs LABEL=CONFIG-2 2>/dev/null) || return 1
    mkdir -p /mnt/config
    for fs in iso9660 vfat; do
        mount -t "$fs" -o ro "$dev" /mnt/config 2>/dev/null && return 0
    done
    say "config drive $dev could not be mounted"
    return 1
}

# fetch PATH (below openstack/) from the source chosen by md_choose, to stdout
md_fetch() {
    if [ "$MD_SOURCE" = config-drive ]; then
        cat "/mnt/config/openstack/$1" 2>/dev/null
    else
        # busybox wget -T crashes in this version; timeout bounds every request
        timeout "$MD_TIMEOUT" wget -q -O - "$MD_URL/openstack/$1" 2>/dev/null
    fi
}

# picks the source and the first version of MD_VERSIONS that has meta_data.json
md_choose() {
    if mount_config_drive; then
        MD_SOURCE=config-drive
        md_pick_version && return 0
    fi
    MD_SOURCE=metadata-service
    md_host=${MD_URL#*://}
    if ! ip -4 route get "${md_host%%[:/]*}" > /dev/null 2>&1; then
        MD_SOURCE=
        return 1
    fi
    tries=0
    while [ "$tries" -lt "$MD_TRIES" ]; do
        md_pick_version && return 0
        tries=$((tries + 1))
        sleep 1
    done
    MD_SOURCE=
    return 1
}

md_pick_version() {
    for v in $MD_VERSIONS; do
        if md_fetch "$v/meta_data.json" > "$MD_DIR/meta_data.json.raw" \
                && [ -s "$MD_DIR/meta_data.json.raw" ]; then
            MD_VERSION=$v
            awk -f /usr/lib/nubo-guest/json.awk "$MD_DIR/meta_data.json.raw" > "$MD_DIR/meta_data"
            return 0
        fi
    done
    return 1
}

# the value at a path of meta_data.json
md_get() {
    awk -F'\t' -v key="$1" '$1 == key { print $2; exit }' "$MD_DIR/meta_data"
}

# every value under a path prefix (public_keys/...)
md_get_all() {
    awk -F'\t' -v prefix="$1/" 'index($1, prefix) == 1 { print $2 }' "$MD_DIR/meta_data"
}

md_apply_hostname() {
    fqdn=$(md_get hostname)
    [ -n "$fqdn" ] || fqdn=$(md_get name)
    [ -n "$fqdn" ] || return 0
    short=${fqdn%%.*}
    hostname "$short"
    echo "$short" > /etc/hostname
    if [ "$fqdn" != "$short" ]; then
        echo "127.0.1.1 $fqdn $short" >> /etc/hosts
    else
        echo "127.0.1.1 $short" >> /etc/hosts
    fi
}

md_apply_keys() {
    mkdir -p /root/.ssh
    chmod 700 /root/.ssh
    md_get_all public_keys | sed 's/ *$//' > /root/.ssh/authorized_keys
    chmod 600 /root/.ssh/authorized_keys
    count=$(grep -c . /root/.ssh/authorized_keys)
    say "$count ssh key(s) for root"
}

# runs user data that is a script (#!); its output goes to the console
md_run_user_data() {
    md_fetch "$MD_VERSION/user_data" > "$MD_DIR/user-data" || return 0
    [ -s "$MD_DIR/user-data" ] || return 0
    if [ "$(head -c 2 "$MD_DIR/user-data")" != "#!" ]; then
        say "user data is not a script (no #!): not run"
        return 0
    fi
    chmod 700 "$MD_DIR/user-data"
    say "running user data"
    "$MD_DIR/user-data" > /dev/console 2>&1
    say "user data exited with status $?"
}
