#!/usr/bin/perl
# A small MaxMind-format (GeoLite2-City layout) database of documentation
# ranges (RFC 5737, RFC 3849) for the tests:
#   tests/geoip/make-test-db.pl OUT [moved]
# ("moved": 192.0.2.0/24 is in Hamburg, to tell a re-opened file apart)
#
#   192.0.2.0/24     Berlin, Germany
#   198.51.100.0/24  Japan (country only)
#   203.0.113.0/24   a hostile city name (markup, a line break, a tab)
#   2001:db8::/32    Paris, France
# Anything else is unknown.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: $0 OUT [moved]\n";
my $city = (shift // '') eq 'moved' ? 'Hamburg' : 'Berlin';
my %types = (city => 'map', country => 'map', names => 'map',
    en => 'utf8_string', iso_code => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => 6,
    record_size => 24,
    database_type => 'GeoLite2-City',
    languages => ['en'],
    description => { en => 'sessiond test ranges' },
    map_key_type_callback => sub { $types{ $_[0] } },
    remove_reserved_networks => 0,
    alias_ipv6_to_ipv4 => 1,
);
sub place {
	my ($city, $iso, $country) = @_;
	my %p = (country => { iso_code => $iso, names => { en => $country } });
	$p{city} = { names => { en => $city } } if defined $city;
	return \%p;
}
$tree->insert_network('192.0.2.0/24', place($city, 'DE', 'Germany'));
$tree->insert_network('198.51.100.0/24', place(undef, 'JP', 'Japan'));
$tree->insert_network('203.0.113.0/24',
    place("<img src=x onerror=alert(1)>\r\nBcc: x\@example.com\tTown",
    'ZZ', 'Nowhere'));
$tree->insert_network('2001:db8::/32', place('Paris', 'FR', 'France'));
open my $fh, '>:raw', "$out.tmp" or die "$out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$out.tmp: $!\n";
rename "$out.tmp", $out or die "$out: $!\n";
